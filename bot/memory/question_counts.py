"""The counts of customers' questions: per day, intent and language, nothing else."""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, String

from bot.database import Base

UNKNOWN_LANGUAGE = "unknown"


class QuestionCountRow(Base):
    """One row per (day, intent, language); Rasa instances add to `count`."""

    __tablename__ = "question_counts"

    day = Column(Date, primary_key=True)  # the shop's day (SHOP_TIMEZONE)
    intent = Column(String(100), primary_key=True)
    language = Column(String(8), primary_key=True)  # nl, en or unknown
    count = Column(Integer, nullable=False, default=0)
