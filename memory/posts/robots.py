"""robots.txt rules as RFC 9309 reads them (the standard library's parser knows no `*` or `$`)."""

from urllib.parse import unquote


class RobotsRules:
    """The allow/disallow rules of the group that applies to one crawler."""

    def __init__(self, rules=()):
        # (allow, pattern length, glob); the longest matching pattern decides.
        self.rules = [(allow, len(pattern), as_glob(pattern)) for allow, pattern in rules]

    @classmethod
    def parse(cls, text, agent):
        """The rules for `agent` (its product token): its own groups, else the `*` groups, else none."""
        groups, agents, rules, in_rules = [], [], [], False
        for raw in text.splitlines():
            key, colon, value = raw.split("#", 1)[0].partition(":")
            if not colon:
                continue
            key, value = key.strip().lower(), value.strip()
            if key == "user-agent":
                if in_rules:  # a user-agent line after rules starts the next group
                    groups.append((agents, rules))
                    agents, rules, in_rules = [], [], False
                agents.append(value.lower())
            elif key in ("allow", "disallow") and agents:  # rules before any user-agent belong nowhere
                in_rules = True
                if value:  # an empty "Disallow:" forbids nothing
                    rules.append((key == "allow", unquote(value)))
        if agents:
            groups.append((agents, rules))
        token = agent.lower()
        if not any(token in names for names, _ in groups):
            token = "*"
        return cls([rule for names, group_rules in groups if token in names for rule in group_rules])

    def allows(self, path):
        """Whether a path (with its query) may be fetched: the longest match wins, allow on a tie."""
        if path == "/robots.txt":
            return True
        path = unquote(path)
        best = None
        for allow, length, glob in self.rules:
            if glob_match(glob, path) and (best is None or (length, allow) > best):
                best = (length, allow)
        return best is None or best[1]


def as_glob(pattern):
    """A rule as a whole-path glob: it matches as a prefix unless it ends with `$`."""
    return pattern[:-1] if pattern.endswith("$") else pattern + "*"


def glob_match(glob, text):
    """Whether `*` (any run of characters) and literals cover all of text.

    Backtracking only to the last `*` keeps it O(len(glob) * len(text)); a regex of many `.*` could
    be made to take exponential time by a hostile robots.txt.
    """
    g = t = 0
    star, mark = -1, 0
    while t < len(text):
        if g < len(glob) and glob[g] == "*":
            star, mark = g, t
            g += 1
        elif g < len(glob) and glob[g] == text[t]:
            g += 1
            t += 1
        elif star >= 0:
            g, mark = star + 1, mark + 1
            t = mark
        else:
            return False
    return all(char == "*" for char in glob[g:])
