"""Order changes from the platforms a shop runs on (Shopify, WooCommerce, Sendcloud).

Each platform is one module: it checks a webhook's signature, reads the
delivery and turns it into normalized `SourceChange`s (change.py). What is
done with them (deduplicated, put in order, applied once, customers warned)
is the same for every platform: inbox.py and apply.py.
"""
