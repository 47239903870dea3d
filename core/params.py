"""click parameter types for the rules of :mod:`affrepro.validation`, shared by every
command: a bad value is a usage error (exit 2) naming the option and what was expected."""
from __future__ import annotations

import click

from affrepro.validation import InvalidValue, check_seeds, parse_seeds, resolve_device


class SeedsType(click.ParamType):
    """``--seeds 0-4`` / ``0,3,7`` / ``0-2,9`` -> a tuple of seeds."""

    name = "seeds"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return parse_seeds(str(value))
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)


class SeedType(click.ParamType):
    """One seed: an integer in [0, 2**32 - 1]."""

    name = "seed"

    def convert(self, value, param, ctx):
        try:
            seed = value if isinstance(value, int) else int(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not an integer seed", param, ctx)
        try:
            return check_seeds([seed])[0]
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)


class DeviceType(click.ParamType):
    """cpu, cuda, cuda:N or auto, resolved to the device the run will use (``auto`` ->
    ``cuda`` or ``cpu``); ``cuda`` where torch sees no GPU is refused."""

    name = "device"

    def convert(self, value, param, ctx):
        try:
            return resolve_device(str(value))
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)


SEEDS, SEED, DEVICE = SeedsType(), SeedType(), DeviceType()


class FailOnType(click.ParamType):
    """``--fail-on not-reproduced,error``: verdict names (affrepro.exit_status)."""

    name = "verdicts"

    def convert(self, value, param, ctx):
        from affrepro.exit_status import parse_fail_on

        if isinstance(value, frozenset):
            return value
        try:
            return parse_fail_on(str(value))
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)


FAIL_ON = FailOnType()
