"""`npm run bench:protocol`'s Python activities."""


def echo(value):
    return value


ACTIVITIES = {"echo": echo}
