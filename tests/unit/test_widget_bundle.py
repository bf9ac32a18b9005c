"""The widget bundle the shop site serves calls no font host."""

import os
from pathlib import Path

from bot.web.widget_bundle import served_bundle, without_remote_fonts

# As rasa-webchat 1.0.1's bundle carries it, once per stylesheet.
CSS_MODULE = (
    't.push([e.i,"@import url(https://fonts.googleapis.com/css?family=Inter:400,500,700'
    '&display=swap);",""]),t.push([e.i,".rw-conversation-container{font-family:Inter}"'
)


def test_the_google_fonts_import_is_taken_out_and_the_rest_kept() -> None:
    served = without_remote_fonts(CSS_MODULE * 3)
    assert "googleapis" not in served
    assert served.count(".rw-conversation-container{font-family:Inter}") == 3


def test_a_changed_bundle_on_disk_is_served_anew(tmp_path: Path) -> None:
    bundle = tmp_path / "index.js"
    bundle.write_text("one();" + CSS_MODULE)
    assert served_bundle(bundle).startswith(b"one();")
    bundle.write_text("two();")
    # A newer modification time: the cache holds one entry per version.

    os.utime(bundle, (bundle.stat().st_atime, bundle.stat().st_mtime + 5))
    assert served_bundle(bundle) == b"two();"
