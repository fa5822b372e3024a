"""Warnings that sknoisy's estimators raise, to filter or catch by class."""

from __future__ import annotations


class ShortTrainingWarning(UserWarning):
    """Training ended before a method's phases could run as designed.

    Raised when ``max_epochs`` is shorter than the method needs, or when early
    stopping ends training in an early phase (IDO's stage 1, ALR's warm-up). The
    fit then ends in the documented fallback state that the message names.
    """


class UnidentifiableNoiseWarning(UserWarning):
    """The given labels carry too little signal for their noise to be found."""
