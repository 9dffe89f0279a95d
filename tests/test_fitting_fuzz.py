"""Hand-edited presets: whatever a field is changed into, the answer is a Preset or one ConfigError line."""

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearsep.errors import ConfigError
from hearsep.fitting import example_preset, parse_preset

BASE = example_preset("N3", "nal-rp-wdrc").to_toml_dict()


def _paths(doc, prefix=()):
    for k, v in doc.items():
        yield prefix + (k,)
        if isinstance(v, dict):
            yield from _paths(v, prefix + (k,))


PATHS = sorted(_paths(BASE))
VALUES = st.one_of(
    st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.text(max_size=8), st.lists(st.one_of(st.floats(-200, 200), st.text(max_size=3), st.booleans()), max_size=8),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=3), st.just("__delete__"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=3))
def test_any_edit_gives_a_preset_or_one_config_error_line(edits):
    doc = copy.deepcopy(BASE)
    for path, value in edits:
        parent = doc
        for key in path[:-1]:
            if not isinstance(parent, dict) or key not in parent:
                break
            parent = parent[key]
        else:
            if isinstance(parent, dict):
                if value == "__delete__":
                    parent.pop(path[-1], None)
                else:
                    parent[path[-1]] = value
    try:
        preset = parse_preset(doc, "hand.toml")
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("hand.toml") and "\n" not in message, message
    else:
        for program in [None, *preset.programs]:
            preset.resolve(program)
