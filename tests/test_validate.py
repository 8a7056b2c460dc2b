"""The dialog loader and validator: every kind of problem, with its exact `file:line: message`.

Grouped by pass: reading and YAML syntax, the JSON Schema (pass one), cross-references and
the state graph (pass two), the catalog as a whole (messages, clashes between dialogs,
folders), the CLI, and a property check on mutated real dialogs.
"""

from __future__ import annotations

import random
import shutil
import textwrap
from pathlib import Path

import pytest

from bot.app import CHANNELS
from bot.channels.base import button_limit
from bot.cli import main
from bot.dialog.loader import build_dialog, check_directory, load_catalog
from bot.dialog.validate import Sources, check_catalog
from bot.errors import DialogError, Problem
from bot.tools import default_registry
from bot.yamlfile import parse

ROOT = Path(__file__).resolve().parent.parent
DIALOGS = ROOT / "dialogs"


def dedent(text: str) -> str:
    return textwrap.dedent(text)


def run(folder: Path) -> list[str]:
    """Every problem in the folder as `file:line: message`, sorted by file, line, message."""
    registry = default_registry()
    messages = folder / "messages.yaml"
    if messages.is_file() and "\ntexts:" not in messages.read_text(encoding="utf-8"):
        # The minimal MESSAGES below tests the system messages alone: the tools' texts are
        # the shipped messages file's (tested with the real dialogs).
        registry.texts.clear()
    catalog, problems = check_directory(folder, registry)
    if problems:
        assert catalog is None
    else:
        assert catalog is not None
    return [str(p) for p in sorted(problems)]


def at(folder: Path, line: int, message: str, file: str = "x.yaml") -> str:
    return f"{folder / file}:{line}: {message}"


# A complete messages file, one key per line (line 1 is `messages:`).
MESSAGES = dedent("""\
    messages:
      fallback: Sorry, I did not get that.
      choose: Please tap a button.
      invalid_number: "Please send a number from {min} to {max}."
      expect_text: Please answer in words.
      expect_location: Please share a location.
      stale_button: That button is from an earlier message.
      unknown_command: "I don't know /{command}."
      cancelled: Stopped.
      nothing_to_cancel: Nothing to stop.
      error: Something went wrong.
      resumed: Welcome back.
      cancel_command: Stop what we are doing
      private_only: Please message me privately.
      unsupported: I can only read text.
      edited: I only read new messages.
      share_location_button: Share my location
      clarify: Did you mean one of these?
      clarify_other: Something else
      acknowledged: I'm here.
      say_more: Tell me more.
      stop_this: Stop this
      carry_on: Carry on
      corrected: Sorry, I got that wrong.
      unsure: That's okay.
      asked: Good question.
      lost: Let's find what fits.
      which_number: "Did you mean {number} or {button}?"
      cancelled_followups: Stopped, and no check-back.
    """)

OK_DIALOG = dedent("""\
    dialog: ok
    start: a
    states:
      a:
        say: hi
        end: true
    """)


def one_dialog(write_dialogs, text: str) -> Path:
    return write_dialogs({"x.yaml": dedent(text)})


# -- reading the file and YAML syntax ---------------------------------------------------------

def test_the_fixture_dialog_and_messages_are_valid(write_dialogs):
    folder = write_dialogs({"ok.yaml": OK_DIALOG, "messages.yaml": MESSAGES})
    assert run(folder) == []


def test_yaml_syntax_error_names_the_line_and_suggests_quotes(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: Tip: breathe slowly
            end: true
        """)
    assert run(folder) == [at(folder, 5, "YAML syntax error: mapping values are not allowed here "
                                         '(if a text contains ? : , # or quotes, put it in '
                                         '"double quotes")')]


def test_yaml_syntax_error_at_the_end_of_the_file(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a: [
        """)
    assert run(folder) == [at(folder, 4, "YAML syntax error: a quote or bracket opened here is "
                                         "never closed")]


def test_yaml_tab_indentation(write_dialogs):
    folder = write_dialogs({"x.yaml": "dialog: x\nstart: a\nstates:\n\ta: 1\n"})
    assert run(folder) == [at(folder, 4, "YAML syntax error: found character '\\t' that cannot "
                                         "start any token")]


def test_unclosed_quote_points_at_the_opening_quote(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: "hi
            end: true
        """)
    _, problems = check_directory(folder, default_registry())
    assert [p.line for p in problems] == [5]
    assert "quote or bracket opened here is never closed" in problems[0].message


def test_two_documents_in_one_file(write_dialogs):
    folder = write_dialogs({"x.yaml": "dialog: x\n---\ndialog: y\n"})
    problems = run(folder)
    assert len(problems) == 1
    assert problems[0].startswith(at(folder, 2, "YAML syntax error: expected a single document"))


@pytest.mark.parametrize("text", ["- a\n- b\n", "just some words\n"], ids=["list", "text"])
def test_a_file_that_is_not_a_mapping(write_dialogs, text):
    folder = write_dialogs({"x.yaml": text})
    assert run(folder) == [at(folder, 1, "expected a dialog (dialog:, start:, states:) or the "
                                         "messages file (messages:)")]


@pytest.mark.parametrize("text", ["", "# only a comment\n\n"], ids=["empty", "comment"])
def test_an_empty_file(write_dialogs, text):
    folder = write_dialogs({"x.yaml": text})
    assert run(folder) == [at(folder, 1, "the file is empty")]


def test_undecodable_bytes(write_dialogs):
    folder = write_dialogs({})
    (folder / "x.yaml").write_bytes(b"dialog: x\xff\xfe\n")
    assert run(folder) == [at(folder, 1, "the file is not UTF-8 text (save it as UTF-8): byte "
                                         "0xff cannot be read")]


def test_undecodable_bytes_name_their_line(write_dialogs):
    folder = write_dialogs({})
    (folder / "x.yaml").write_bytes(b"dialog: x\nstart: a\ntitle: caf\xe9\n")
    _, problems = check_directory(folder, default_registry())
    assert [p.line for p in problems] == [3]


def test_duplicate_keys_at_top_level_and_in_a_state(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        dialog: y
        states:
          a:
            say: hi
            say: again
            end: true
        """)
    assert run(folder) == [
        at(folder, 3, "duplicate key 'dialog' (first defined on line 1)"),
        at(folder, 7, "duplicate key 'say' (first defined on line 6)"),
    ]


def test_duplicate_state_names(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            end: true
          a:
            say: hi again
            end: true
        """)
    assert run(folder) == [at(folder, 7, "duplicate key 'a' (first defined on line 4)")]


def test_a_key_that_is_not_a_word(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            end: true
          [a, b]: x
        """)
    assert run(folder) == [at(folder, 7, "a key must be a plain word")]


def test_a_self_referencing_alias_is_a_problem_not_a_crash(write_dialogs):
    folder = write_dialogs({"x.yaml": "dialog: x\nstart: a\nstates: &s\n  a: *s\n"})
    _, problems = check_directory(folder, default_registry())
    assert problems[0] == Problem(str(folder / "x.yaml"), 4,
                                  "an alias (*name) refers to the block that contains it")


def test_deep_nesting_is_a_problem_not_a_crash(write_dialogs):
    folder = write_dialogs({"x.yaml": "dialog: x\ntitle: " + "[" * 600 + "]" * 600 + "\n"})
    _, problems = check_directory(folder, default_registry())
    assert problems == [Problem(str(folder / "x.yaml"), 1,
                                "the file is nested too deeply to read")]


# -- pass one: the JSON Schema ----------------------------------------------------------------

def test_unknown_keys_suggest_the_nearest(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        titel: Hello
        start: a
        states:
          a:
            sya: hi
            end: true
          b:
            say: hi
            nxt: a
          c:
            say: hi
            buttons:
              - {label: Go, too: a}
        """)
    assert run(folder) == [
        at(folder, 2, "unknown key 'titel' (did you mean 'title'?)"),
        at(folder, 6, "state 'a': unknown key 'sya' (did you mean 'say'?)"),
        at(folder, 10, "state 'b': unknown key 'nxt' (did you mean 'next'?)"),
        at(folder, 14, "state 'c', button 1: unknown key 'too' (did you mean 'to'?)"),
    ]


def test_unknown_top_level_key_lists_the_known_keys(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        colour: blue
        states:
          a:
            say: hi
            end: true
        """)
    assert run(folder) == [at(folder, 3, "unknown key 'colour' (known keys: dialog, title, "
                                         "command, description, intents, locations, start, states, "
                                         "words, menu)")]


def test_missing_required_key(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        states:
          a:
            say: hi
            end: true
        """)
    assert run(folder) == [at(folder, 1, "missing required key 'start'")]


def test_missing_button_label_and_branch_to(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            buttons:
              - {to: a}
            next:
              - {if: end}
        """)
    assert run(folder) == [
        at(folder, 7, "state 'a', button 1: missing required key 'label'"),
        at(folder, 9, "state 'a', branch 1: missing required key 'to'"),
    ]


def test_wrong_type(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        title: 3
        start: a
        states:
          a:
            say: hi
            buttons: hello
          b:
        """)
    assert run(folder) == [
        at(folder, 2, "title: should be a text, not int"),
        at(folder, 7, "state 'a', buttons: should be a list, not str"),
        at(folder, 8, "state 'b': should be a mapping (key: value), not NoneType"),
    ]


@pytest.mark.parametrize(("line", "body", "message"), [
    (5, "    say: 3\n    next: b\n", "state 'a', say: should be a text or a list"),
    (6, "    say: hi\n    next: 3\n", "state 'a', next: should be a text or a list"),
    (7, "    say: hi\n    do:\n      - 3\n    next: b\n",
     "state 'a', action 1: should be a text or a mapping (key: value)"),
    (7, "    say: hi\n    next:\n      - {if: 3, to: b}\n      - {to: b}\n",
     "state 'a', branch 1, if: should be a text or a mapping (key: value)"),
], ids=["say", "next", "do", "if"])
def test_wrong_type_where_two_shapes_are_allowed(write_dialogs, line, body, message):
    text = ("dialog: x\nstart: a\nstates:\n  a:\n" + body
            + "  b:\n    say: bye\n    end: true\n")
    folder = write_dialogs({"x.yaml": text})
    assert run(folder) == [at(folder, line, message)]


def test_bad_state_name_points_at_its_key(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            end: true
          Ask_Name:
            say: hi
            end: true
        """)
    assert run(folder) == [at(folder, 7, "state 'Ask_Name': 'Ask_Name' is not a valid name: use "
                                         "lower-case letters, digits and _, starting with a "
                                         "letter")]


def test_bad_names_in_values(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: X
        start: a
        states:
          a:
            say: hi
            expect: text
            save: Bad Key
            do: [Save]
            next: B
        """)
    rule = "is not a valid name: use lower-case letters, digits and _, starting with a letter"
    assert run(folder) == [
        at(folder, 1, f"dialog: 'X' {rule}"),
        at(folder, 7, f"state 'a', save: 'Bad Key' {rule}"),
        at(folder, 8, f"state 'a', action 1: 'Save' {rule}"),
        at(folder, 9, f"state 'a', next: 'B' {rule}"),
    ]


def test_expect_must_be_one_of_the_kinds(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            expect: maybe
            next: a
        """)
    assert run(folder) == [at(folder, 6, "state 'a', expect: 'maybe' is not one of: text, "
                                         "number, location")]


def test_end_false_is_not_allowed(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            end: false
        """)
    assert run(folder) == [at(folder, 6, "state 'a', end: must be true (or leave the key out)")]


def test_text_over_4096_characters_is_not_repeated(write_dialogs):
    long_text = "y" * 4097
    folder = write_dialogs({"x.yaml": "dialog: x\nstart: a\nstates:\n  a:\n"
                                      f"    say: {long_text}\n    end: true\n"})
    problems = run(folder)
    assert problems == [at(folder, 5, "state 'a', say: text is 4097 characters; at most 4096 "
                                      "are allowed")]
    assert "yyyy" not in problems[0]


def test_empty_texts(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        description: ""
        start: a
        states:
          a:
            say: ""
            buttons:
              - {label: "", to: a}
        """)
    assert run(folder) == [
        at(folder, 2, "description: must not be empty"),
        at(folder, 6, "state 'a', say: must not be empty"),
        at(folder, 8, "state 'a', button 1, label: must not be empty"),
    ]


def test_list_sizes(write_dialogs):
    buttons = "".join(f"      - {{label: b{i}, to: a}}\n" for i in range(13))
    folder = write_dialogs({"x.yaml": "dialog: x\nstart: a\nstates:\n  a:\n    say: []\n"
                                      "    expect: number\n    range: [1]\n    next: a\n"
                                      f"  b:\n    say: hi\n    buttons:\n{buttons}"})
    assert run(folder) == [
        at(folder, 5, "state 'a', say: needs at least 1 item"),
        at(folder, 7, "state 'a', range: needs at least 2 items"),
        at(folder, 11, "state 'b', buttons: has 13 items; at most 12 are allowed"),
    ]


def test_an_action_with_two_names(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            do:
              - {save: {a: 1}, end: null}
            end: true
        """)
    assert run(folder) == [at(folder, 7, "state 'a', action 1: write an action or condition as "
                                         "its name, or as {name: arguments}, one per item")]


def test_no_states_says_so(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states: {}
        """)
    problems = run(folder)
    assert len(problems) == 1
    assert problems[0].startswith(at(folder, 3, "states: "))
    assert "action or condition" not in problems[0]


# -- pass two: cross-references, state shapes, the graph ---------------------------------------

def test_unknown_targets_suggest_the_nearest_state(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: welcom
        states:
          welcome:
            say: hi
            buttons:
              - {label: Go, to: finsh}
            on:
              yes: finsh
          ask:
            say: Why?
            expect: text
            next: finsh
          finish:
            say: bye
            end: true
        """)
    assert run(folder) == [
        at(folder, 2, "start: unknown state 'welcom' (did you mean 'welcome'?)"),
        at(folder, 7, "state 'welcome', button 1 'Go' goes to unknown state 'finsh' "
                      "(did you mean 'finish'?)"),
        at(folder, 9, "state 'welcome', on 'yes' goes to unknown state 'finsh' "
                      "(did you mean 'finish'?)"),
        at(folder, 13, "state 'ask', next goes to unknown state 'finsh' "
                       "(did you mean 'finish'?)"),
    ]


def test_unknown_target_in_a_branch_points_at_the_branch(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: Why?
            expect: text
            save: reason
            next:
              - if: {answered: reason}
                to: b
              - to: zzz
          b:
            say: bye
            end: true
        """)
    assert run(folder) == [at(folder, 11, "state 'a', next goes to unknown state 'zzz'")]


FOLLOW_UP_TYPO = """\
    dialog: x
    start: welcome
    states:
      welcome:
        say: I'll check back.
        do:
          - follow_up: {after: 15m, go: welcme}
        end: true
    """


def test_unknown_follow_up_target(write_dialogs):
    folder = one_dialog(write_dialogs, FOLLOW_UP_TYPO)
    problems = run(folder)
    assert len(problems) == 1
    assert problems[0].startswith(at(folder, 7, "state 'welcome': action 'follow_up' go: "
                                                "unknown state 'welcme'"))


def test_unknown_follow_up_target_suggests_the_nearest(write_dialogs):
    folder = one_dialog(write_dialogs, FOLLOW_UP_TYPO)
    assert run(folder) == [at(folder, 7, "state 'welcome': action 'follow_up' go: unknown state "
                                         "'welcme' (did you mean 'welcome'?)")]


def test_unreachable_state(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            end: true
          lost:
            say: nobody gets here
            end: true
        """)
    assert run(folder) == [at(folder, 7, "state 'lost' cannot be reached from start 'a'")]


def test_states_reached_by_on_or_follow_up_are_reachable(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: How strong is it?
            expect: number
            range: [0, 10]
            on: {craving: urge}
            do: [{follow_up: {after: 2h, go: later}}]
            next: bye
          later:
            say: How did it go?
            end: true
          urge:
            say: Let's ride it out.
            end: true
          bye:
            say: bye
            end: true
        """)
    assert run(folder) == []


@pytest.mark.parametrize(("body", "message"), [
    ("    say: hi\n", "state 'a' has no way out: add buttons, next, or end: true"),
    ("    say: hi\n    expect: text\n    buttons:\n      - {label: B, to: b}\n",
     "state 'a' expects an answer but has no next"),
    ("    say: hi\n    buttons:\n      - {label: B}\n",
     "state 'a', button 1 'B' has no to, and the state has no next"),
    ("    say: hi\n    expect: number\n    next: b\n",
     "state 'a' expects a number: add its range, e.g. range: [0, 10]"),
    ("    say: hi\n    expect: text\n    range: [0, 10]\n    next: b\n",
     "state 'a' has a range but does not expect a number"),
    ("    say: hi\n    expect: number\n    range: [10, 0.5]\n    next: b\n",
     "state 'a': range [10, 0.5] is the wrong way round"),
    ("    say: hi\n    save: mood\n    next: b\n",
     "state 'a' saves an answer but asks for none (add expect or buttons)"),
    ("    say: hi\n    expect: text\n    save: mood\n    next:\n"
     "      - {if: {answered: mood}, to: b}\n",
     "state 'a': the last branch of next needs no if, so there is always a way on"),
    ("    say: hi\n    expect: text\n    save: mood\n    next:\n"
     "      - {to: b}\n      - {if: {answered: mood}, to: b}\n      - {to: b}\n",
     "state 'a': next branch 1 has no if, so the branches after it are never taken"),
    ("    say: hi\n    buttons:\n      - {label: B, to: b}\n    end: true\n",
     "state 'a' ends the dialog, so it cannot also have buttons, expect or next"),
    ("    buttons:\n      - {label: B, to: b}\n", "state 'a' has nothing to say: add say"),
], ids=["dead-end", "expect-without-next", "button-without-to", "number-without-range",
        "range-without-number", "range-backwards", "save-asks-nothing", "last-branch-if",
        "unconditional-branch-first", "end-with-buttons", "waits-without-say"])
def test_state_shape(write_dialogs, body, message):
    text = "dialog: x\nstart: a\nstates:\n  a:\n" + body + "  b:\n    say: bye\n    end: true\n"
    folder = write_dialogs({"x.yaml": text})
    assert run(folder) == [at(folder, 4, message)]


def test_a_loop_that_never_waits(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: one
            next: b
          b:
            say: two
            next: c
          c:
            say: three
            next: a
        """)
    assert run(folder) == [at(folder, 4, "states a -> b -> c -> a loop forever without waiting "
                                         "for the user")]


def test_a_loop_through_a_waiting_state_is_fine(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: one
            next: b
          b:
            say: Again?
            buttons:
              - {label: Again, to: a}
              - {label: Stop, to: c}
          c:
            say: bye
            end: true
        """)
    assert run(folder) == []


def test_unknown_actions_and_conditions_list_the_known_names(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            expect: text
            save: mood
            do: [sav, frobnicate]
            next:
              - {if: answerd, to: b}
              - {to: b}
          b:
            say: bye
            buttons:
              - label: Done
                to: a
                do: [nope]
        """)
    actions = ("(known: cancel_follow_ups, clear, end, find_absolutes, find_meetings, "
               "find_zone, follow_up, forget_me, helpline_for, journal, log_checkin, log_urge, "
               "more_meetings, offer_barriers, place_in_text, remember_place, resume, save, "
               "set_barrier, set_country, set_language, set_reminder, start, use_saved_place)")
    assert run(folder) == [
        at(folder, 8, f"state 'a': unknown action 'frobnicate' {actions}"),
        at(folder, 8, f"state 'a': unknown action 'sav' (did you mean 'save'?) {actions}"),
        at(folder, 10, "state 'a': unknown condition 'answerd' (did you mean 'answered'?) "
                       "(known: about_gambling, all, answered, any, at_least, barriers_in_place, "
                       "below, equals, helpline_open, more_meetings, no_helpline, not, says, "
                       "weekday)"),
        at(folder, 17, f"state 'b': unknown action 'nope' {actions}"),
    ]


ACTION = """\
dialog: x
start: a
states:
  a:
    say: hi
    do:
      - {call}
    next: b
  b:
    say: bye
    end: true
"""


@pytest.mark.parametrize(("call", "messages"), [
    ("follow_up: {after: soon, go: b}",
     ["action 'follow_up' after: 'soon' is not a duration like 30s, 15m, 2h or 1d"]),
    ("follow_up: 15m", ["action 'follow_up' expects {after: 15m, go: state} or "
                        "{at: \"09:00\", go: state}"]),
    ("follow_up: {at: 9am, go: b}",
     ["action 'follow_up' at: '9am' is not a time of day like \"09:00\" (in quotes)"]),
    ("start: hepl", ["action 'start' unknown dialog 'hepl'"]),
    ("start: [x]", ["action 'start' expects a dialog name, e.g. start: help"]),
    ("end: now", ["action 'end' takes no arguments"]),
    ("journal: [a, b]", ["action 'journal' expects {kind: name, keys: [answer keys]}"]),
    ("journal: {kind: Bad Kind, keys: [a, B]}",
     ["action 'journal' keys: expects a list of answer keys",
      "action 'journal' kind: expects a name such as abc or urge"]),
    ("save: {Mood: good}", ["action 'save' 'Mood' is not a valid answer key"]),
    ("clear: [ok, Not OK]", ["action 'clear' expects an answer key or a list of keys, e.g. "
                             "reason or [urge.before, urge.after]"]),
], ids=["follow_up-duration", "follow_up-shape", "follow_up-at", "start-unknown", "start-shape",
        "end-args", "journal-shape", "journal-kind-keys", "save-key", "clear-keys"])
def test_bad_action_arguments(write_dialogs, call, messages):
    folder = write_dialogs({"x.yaml": ACTION.replace("{call}", call)})
    assert run(folder) == [at(folder, 7, f"state 'a': {m}") for m in messages]


def test_actions_with_good_arguments(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            do:
              - end
              - save: {mood: ok, urge.before: 7}
              - clear: [mood]
              - clear: urge.before
              - start: x
              - journal: {kind: note, keys: [mood]}
              - follow_up: {after: 1d, go: b}
            next: b
          b:
            say: bye
            end: true
        """)
    assert run(folder) == []


def test_an_action_without_its_arguments(write_dialogs):
    folder = write_dialogs({"x.yaml": ACTION.replace("{call}", "save")})
    assert run(folder) == [at(folder, 7, "state 'a': action 'save' expects {key: value}, "
                                         "e.g. {mood: good}")]


CONDITION = """\
dialog: x
start: a
states:
  a:
    say: How strong is the urge?
    expect: number
    range: [0, 10]
    save: urge
    next:
      - if: {cond}
        to: b
      - to: b
  b:
    say: bye
    end: true
"""


@pytest.mark.parametrize(("cond", "message"), [
    ("{at_least: {urge: high}}", "condition 'at_least' expects {key: number}, "
                                 "e.g. {urge.before: 7}"),
    ("{below: {urge: true}}", "condition 'below' expects {key: number}, e.g. {urge.before: 7}"),
    ("{equals: 3}", "condition 'equals' expects {key: value}, e.g. {mood: good}"),
    ("{answered: {urge: 1}}", "condition 'answered' expects an answer key or a list of keys, "
                              "e.g. reason or [urge.before, urge.after]"),
    ("answered", "condition 'answered' expects an answer key or a list of keys, "
                 "e.g. reason or [urge.before, urge.after]"),
], ids=["at_least-text", "below-bool", "equals-shape", "answered-shape", "answered-bare"])
def test_bad_condition_arguments(write_dialogs, cond, message):
    folder = write_dialogs({"x.yaml": CONDITION.replace("{cond}", cond)})
    assert run(folder) == [at(folder, 10, f"state 'a': {message}")]


def test_conditions_with_good_arguments(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: How strong is the urge?
            expect: number
            range: [0, 10]
            save: urge
            next:
              - {if: {at_least: {urge: 7.5}}, to: b}
              - {if: {below: {urge: 2}}, to: b}
              - {if: {equals: {urge: 5}}, to: b}
              - {if: {answered: [urge]}, to: b}
              - {if: {answered: urge}, to: b}
              - to: b
          b:
            say: bye
            end: true
        """)
    assert run(folder) == []


def test_the_schema_keeps_button_data_within_telegrams_64_bytes(write_dialogs):
    """dialog|state|index is at most 24 + 1 + 24 + 1 + 2 = 52 bytes: names are ASCII and at
    most 24 characters, and a state has at most 12 buttons. So the 64-byte check in pass two
    cannot fire for a file that passed the schema."""
    dialog, state = "d" * 24, "s" * 24
    buttons = "".join(f"      - {{label: b{i}, to: {state}}}\n" for i in range(12))
    text = f"dialog: {dialog}\nstart: {state}\nstates:\n  {state}:\n    say: hi\n    buttons:\n"
    buttons = buttons.replace(f"b11, to: {state}", "b11, to: bye")
    ending = "  bye:\n    say: bye\n    end: true\n"
    folder = write_dialogs({"x.yaml": text + buttons + ending})
    assert run(folder) == []
    longer = text.replace(f"  {state}:", f"  {state}x:") + buttons + ending
    (folder / "x.yaml").write_text(longer)
    assert run(folder) == [at(folder, 4, f"state '{state}x': text is 25 characters; at most 24 "
                                         "are allowed")]


def test_button_data_over_64_bytes(tmp_path):
    """The check itself, on a dialog built without the schema (its names are too long)."""
    dialog, state = "d" * 40, "s" * 40
    text = (f"dialog: {dialog}\nstart: {state}\nstates:\n  {state}:\n    say: hi\n"
            f"    buttons:\n      - {{label: Go, to: {state}}}\n")
    file = str(tmp_path / "long.yaml")
    parsed, problems = parse(text, file)
    assert parsed is not None and problems == []
    sources = Sources([(build_dialog(parsed), parsed)], {}, None)
    found = [str(p) for p in check_catalog(sources, default_registry(),
                                           button_limit(CHANNELS))
             if "command: help" not in p.message and "reach the end" not in p.message]
    assert found == [
        f"{file}:7: state '{state}': button data '{dialog}|{state}|0' is 83 bytes; Telegram "
        "allows 64: shorten the dialog or state name"]


# -- pass two: placeholders ---------------------------------------------------------------------

SAVES_REASON = dedent("""\
    dialog: y
    start: ask
    states:
      ask:
        say: Why?
        expect: text
        save: reason
        do: [{save: {mood: ok}}]
        next: done
      done:
        say: Thanks.
        end: true
    """)


def test_placeholders(write_dialogs):
    folder = write_dialogs({"y.yaml": SAVES_REASON, "x.yaml": dedent("""\
        dialog: x
        start: a
        states:
          a:
            say:
              - "Hi {unknown_key}."
              - "You said {reasn}."
              - "{Bad} idea"
              - "odd } brace"
            buttons:
              - {label: "{Mood}", to: a}
        """)})
    assert run(folder) == [
        at(folder, 6, "state 'a': uses {unknown_key}, which no dialog saves"),
        at(folder, 7, "state 'a': uses {reasn}, which no dialog saves (did you mean 'reason'?)"),
        at(folder, 8, "state 'a': '{Bad}' is not a placeholder like {reason} or "
                      "{reason|your reason}"),
        at(folder, 9, "state 'a': unmatched '}' (write {{ or }} for a literal brace)"),
        at(folder, 11, "state 'a': '{Mood}' is not a placeholder like {reason} or "
                       "{reason|your reason}"),
    ]


def test_placeholders_saved_anywhere_and_literal_braces_are_fine(write_dialogs):
    folder = write_dialogs({"y.yaml": SAVES_REASON, "x.yaml": dedent("""\
        dialog: x
        start: a
        states:
          a:
            say: "{reason}, {mood}, {focus|your goal} and {{literal}} braces"
            end: true
        """)})
    assert run(folder) == [at(folder, 5, "state 'a': uses {focus}, which no dialog saves")]
    (folder / "x.yaml").write_text((folder / "x.yaml").read_text().replace("{focus|", "{reason|"))
    assert run(folder) == []


# -- the catalog: messages, clashes between dialogs, folders -----------------------------------

def test_no_messages_file_names_the_folder(write_dialogs):
    folder = write_dialogs({"ok.yaml": OK_DIALOG}, with_messages=False)
    assert run(folder) == [
        f"{folder}:1: no messages file: add messages.yaml with the system messages",
        f"{folder / 'ok.yaml'}:1: no dialog has command: help; people must always be able to "
        "reach help"]


def test_a_missing_message(write_dialogs):
    folder = write_dialogs({"ok.yaml": OK_DIALOG,
                            "messages.yaml": MESSAGES.replace("  error: Something went wrong.\n",
                                                              "")})
    assert at(folder, 1, "messages: missing required key 'error'", "messages.yaml") in run(folder)


def test_an_unknown_message(write_dialogs):
    folder = write_dialogs({"ok.yaml": OK_DIALOG, "messages.yaml": MESSAGES + "  goodbye: Bye\n"})
    assert at(folder, 30, "messages: unknown key 'goodbye' (known keys: fallback, choose, "
                          "invalid_number, expect_text, expect_location, stale_button, "
                          "unknown_command, cancelled, nothing_to_cancel, error, resumed, "
                          "cancel_command, private_only, unsupported, edited, "
                          "share_location_button, clarify, clarify_other, acknowledged, "
                          "say_more, stop_this, carry_on, corrected, unsure, asked, lost, "
                          "which_number, cancelled_followups)",
              "messages.yaml") in run(folder)


def test_a_broken_messages_file_is_not_reported_as_missing(write_dialogs):
    folder = write_dialogs({"ok.yaml": OK_DIALOG,
                            "messages.yaml": MESSAGES.replace("  error: Something went wrong.\n",
                                                              "")})
    assert run(folder) == [at(folder, 1, "messages: missing required key 'error'",
                              "messages.yaml")]


def test_two_messages_files(write_dialogs):
    folder = write_dialogs({"ok.yaml": OK_DIALOG, "messages.yaml": MESSAGES,
                            "more.yaml": MESSAGES})
    assert run(folder) == [at(folder, 1, f"messages are already defined in "
                                         f"{folder / 'messages.yaml'}", "more.yaml")]


def test_message_placeholders(write_dialogs):
    messages = (MESSAGES.replace("Welcome back.", "Welcome back, {name}.")
                .replace("Please tap a button.", "Tap from {min}.")
                .replace("/{command}", "/{cmd} {Bad}"))
    folder = write_dialogs({"ok.yaml": OK_DIALOG, "messages.yaml": messages})
    assert run(folder) == [
        at(folder, 3, "message 'choose' uses {min}, which nothing fills in here", "messages.yaml"),
        at(folder, 8, "message 'unknown_command' uses {cmd}, which nothing fills in here",
           "messages.yaml"),
        at(folder, 8, "message 'unknown_command': '{Bad}' is not a placeholder like {reason} "
                      "or {reason|your reason}", "messages.yaml"),
        at(folder, 12, "message 'resumed' uses {name}, which nothing fills in here",
           "messages.yaml"),
    ]


def test_a_message_may_use_a_saved_answer(write_dialogs):
    folder = write_dialogs({"y.yaml": SAVES_REASON, "messages.yaml": MESSAGES.replace(
        "Welcome back.", "Welcome back. You wanted this because {reason}.")})
    assert run(folder) == []


def dialog_text(name: str, extra: str = "") -> str:
    return f"dialog: {name}\n{extra}start: a\nstates:\n  a:\n    say: hi\n    end: true\n"


def test_duplicate_dialog_names(write_dialogs):
    folder = write_dialogs({"a.yaml": dialog_text("x"), "b.yaml": dialog_text("x")})
    assert run(folder) == [at(folder, 1, f"dialog 'x' is already defined in {folder / 'a.yaml'}",
                              "b.yaml")]


def test_duplicate_command(write_dialogs):
    folder = write_dialogs({"a.yaml": dialog_text("x", "command: go\ndescription: Go\n"),
                            "b.yaml": dialog_text("y", "command: go\ndescription: Go\n")})
    assert run(folder) == [at(folder, 2, "/go already opens dialog 'x'", "b.yaml")]


def test_cancel_is_reserved(write_dialogs):
    folder = write_dialogs({"a.yaml": dialog_text("x", "command: cancel\ndescription: Stop\n")})
    assert run(folder) == [at(folder, 2, "/cancel is built in; choose another command", "a.yaml")]


def test_a_command_needs_a_description(write_dialogs):
    folder = write_dialogs({"a.yaml": dialog_text("x", "command: go\n")})
    assert run(folder) == [at(folder, 2, "a dialog with a command needs a description for the "
                                         "command menu", "a.yaml")]


def test_duplicate_intent(write_dialogs):
    folder = write_dialogs({"a.yaml": dialog_text("x", "intents: [help_me, urge]\n"),
                            "b.yaml": dialog_text("y", "intents:\n  - greet\n  - urge\n")})
    assert run(folder) == [at(folder, 4, "intent 'urge' already opens dialog 'x'", "b.yaml")]


def test_the_folder_does_not_exist(tmp_path):
    missing = tmp_path / "nope"
    assert run(missing) == [f"{missing}:1: no such folder of dialogs"]


def test_a_folder_without_yaml_files(tmp_path):
    (tmp_path / "README.txt").write_text("dialogs: x\n")
    assert run(tmp_path) == [f"{tmp_path}:1: no dialog files (*.yaml) in this folder"]


def test_yml_files_are_read_too(write_dialogs):
    folder = write_dialogs({"x.yml": dialog_text("x", "command: go\n")})
    assert run(folder) == [at(folder, 2, "a dialog with a command needs a description for the "
                                         "command menu", "x.yml")]


THREE_PROBLEMS = """\
    dialog: x
    start: a
    states:
      a:
        say: hi
        expect: maybe
        say: again
        next: b
      b:
        sya: bye
        end: true
    """


def test_every_problem_of_a_file_at_once_sorted_by_line(write_dialogs):
    folder = one_dialog(write_dialogs, THREE_PROBLEMS)
    expected = [
        at(folder, 6, "state 'a', expect: 'maybe' is not one of: text, number, location"),
        at(folder, 7, "duplicate key 'say' (first defined on line 5)"),
        at(folder, 10, "state 'b': unknown key 'sya' (did you mean 'say'?)"),
    ]
    assert run(folder) == expected
    with pytest.raises(DialogError) as raised:
        load_catalog(folder, default_registry())
    assert [str(p) for p in raised.value.problems] == expected
    assert str(raised.value) == "\n".join(expected)


def test_problems_in_several_files_are_all_reported(write_dialogs):
    folder = write_dialogs({"x.yaml": dedent(THREE_PROBLEMS),
                            "y.yaml": dialog_text("y").replace("end: true", "next: nowhere")})
    problems = run(folder)
    assert len(problems) == 4
    assert problems[3] == at(folder, 6, "state 'a', next goes to unknown state 'nowhere'",
                             "y.yaml")


def test_load_catalog_returns_the_catalog(write_dialogs):
    folder = write_dialogs({"ok.yaml": OK_DIALOG, "messages.yaml": MESSAGES})
    registry = default_registry()
    registry.texts.clear()  # MESSAGES has the system messages only
    catalog = load_catalog(folder, registry)
    assert list(catalog.dialogs) == ["ok", "help"]
    assert catalog.messages["cancel_command"] == "Stop what we are doing"


def test_the_real_dialogs_are_valid(dialogs_dir):
    catalog, problems = check_directory(dialogs_dir, default_registry())
    assert [str(p) for p in problems] == []
    assert catalog is not None and {"start", "help"} <= set(catalog.dialogs)


def test_the_published_schema_is_the_package_schema():
    assert (DIALOGS / "schema.json").read_bytes() == \
        (ROOT / "bot" / "dialog" / "schema.json").read_bytes()


# -- the CLI ------------------------------------------------------------------------------------

def test_cli_validate_lists_problems_and_fails(write_dialogs, capsys):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            buttons:
              - {label: Done, to: finsh}
              - {label: Back, to: aa}
          finish:
            say: bye
            end: true
        """)
    assert main(["validate", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        at(folder, 7, "state 'a', button 1 'Done' goes to unknown state 'finsh' "
                      "(did you mean 'finish'?)"),
        at(folder, 8, "state 'a', button 2 'Back' goes to unknown state 'aa' "
                      "(did you mean 'a'?)"),
        "2 problems in the dialogs.",
    ]
    assert "Traceback" not in err


def test_cli_validate_a_missing_folder(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope")]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"{tmp_path / 'nope'}:1: no such folder of dialogs",
                                "1 problem in the dialogs."]


@pytest.mark.slow  # the real dialogs loaded twice; test_the_real_dialogs_are_valid is quick
def test_cli_validate_the_real_dialogs(dialogs_dir, capsys):
    catalog, _ = check_directory(dialogs_dir, default_registry())
    assert catalog is not None
    assert main(["validate", str(dialogs_dir)]) == 0
    out, err = capsys.readouterr()
    names = ", ".join(sorted(catalog.dialogs))
    assert out == (f"{dialogs_dir}: {len(catalog.dialogs)} dialogs and the messages are valid, "
                   f"in en and es ({names}).\n")
    assert err == ""


# -- property: mutated real dialogs never crash the validator ---------------------------------

HELP_STUB = ("dialog: help\ncommand: help\ndescription: Help\nstart: a\nstates:\n  a:\n"
             "    say: hi\n    do: [{start: start}]\n    end: true\n")


def mutate(rng: random.Random, text: str) -> str:
    kind = rng.randrange(3)
    if kind == 0:  # delete a line
        lines = text.split("\n")
        del lines[rng.randrange(len(lines))]
        return "\n".join(lines)
    if kind == 1:  # replace a character
        i = rng.randrange(len(text))
        return text[:i] + rng.choice(":{-") + text[i + 1:]
    return text[:rng.randrange(len(text) + 1)]  # truncate


@pytest.mark.slow  # 200 catalogs checked: ~2-3 s
def test_mutated_dialogs_give_a_catalog_or_problems_never_a_crash(write_dialogs, seed):
    original = (DIALOGS / "start.yaml").read_text()
    # A small stand-in for help.yaml keeps `start: help` valid and the test fast.
    folder = write_dialogs({"help.yaml": HELP_STUB, "reminder.yaml": HELP_STUB.replace(
        "dialog: help\ncommand: help\ndescription: Help", "dialog: reminder")})
    registry = default_registry()
    rng = random.Random(seed)  # fixed unless SMART_COACH_TEST_SEED says
    outcomes = {"catalog": 0, "problems": 0}
    for _ in range(200):
        text = mutate(rng, original)
        if rng.random() < 0.3:
            text = mutate(rng, text)
        (folder / "start.yaml").write_text(text)
        catalog, problems = check_directory(folder, registry)
        if not problems:
            assert catalog is not None, text
            outcomes["catalog"] += 1
            continue
        assert catalog is None, text
        outcomes["problems"] += 1
        for problem in problems:
            path = Path(problem.file)
            last = len(path.read_text().splitlines()) + 1 if path.is_file() else 1
            assert 1 <= problem.line <= last, (str(problem), text)
    assert outcomes["catalog"] > 0 and outcomes["problems"] > 0


def test_on_intents_in_a_free_text_step_are_never_used(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: What set it off?
            expect: text
            save: trigger
            on: {craving: b}
            next: b
          b:
            say: Thanks.
            end: true
        """)
    assert run(folder) == [at(folder, 4, "state 'a' takes any text as its answer, so its `on` "
                                         "intents are never used")]


# -- the project's language, and a way out -----------------------------------------------------

def test_labels_and_disease_talk_are_rejected_with_file_and_line(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: Every addict can stay clean if they admit they are powerless.
            buttons:
              - {label: "I'm an alcoholic", to: b}
          b:
            say: Addiction is a disease.
            end: true
        """)
    assert run(folder) == [
        at(folder, 5, "state 'a': 'addict' labels the person: say what they do instead "
                      "(\"someone who uses\")"),
        at(folder, 5, "state 'a': 'powerless' says the person is powerless: SMART is about "
                      "self-reliance and choice"),
        at(folder, 5, "state 'a': 'stay clean' uses \"clean\" as a label: say \"not using\" or "
                      "\"alcohol-free\" instead"),
        at(folder, 7, "state 'a': 'alcoholic' labels the person: say \"someone who drinks\" or "
                      "name the behaviour"),
        at(folder, 9, "state 'b': 'disease' calls addiction a disease: SMART talks about "
                      "behaviour and choice"),
    ]


def test_ordinary_uses_of_those_words_pass(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: Try a non-alcoholic drink, or clean the kitchen. Alcoholic drinks are everywhere.
            end: true
        """)
    assert run(folder) == []


def test_a_system_message_is_checked_too(write_dialogs, dialogs_dir):
    text = (dialogs_dir / "messages.yaml").read_text().replace(
        "Sorry, something went wrong on my side.", "Sorry, addicts.")
    folder = write_dialogs({"ok.yaml": OK_DIALOG, "messages.yaml": text})
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "Sorry, addicts" in x)
    assert run(folder) == [at(folder, line, "message 'error': 'addicts' labels the person: say "
                                            "what they do instead (\"someone who uses\")",
                              "messages.yaml")]


def test_every_step_must_lead_to_an_end(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: Round and round?
            buttons:
              - {label: "Again", to: b}
          b:
            say: And again.
            buttons:
              - {label: "Again", to: a}
        """)
    assert run(folder) == [
        at(folder, 4, "state 'a' can never reach the end of the dialog (add a way to end: true)"),
        at(folder, 8, "state 'b' can never reach the end of the dialog (add a way to end: true)"),
    ]


def test_help_must_exist(write_dialogs):
    folder = write_dialogs({"ok.yaml": OK_DIALOG, "messages.yaml": MESSAGES,
                            "zz_help.yaml": "# no help here\n" + OK_DIALOG.replace("ok", "other")})
    assert at(folder, 1, "no dialog has command: help; people must always be able to reach "
                         "help", "ok.yaml") in run(folder)


def test_a_helpline_topic_in_the_words_file_is_checked(write_dialogs):
    """Topics name the helplines' `topic`: a misspelt one would never match a line."""
    folder = write_dialogs({"x.yaml": dialog_text("x", "")})
    (folder / "words").mkdir()
    (folder / "words" / "en.yaml").write_text(
        "yes: [yes]\nno: [no]\ntopics:\n  gambling: [bet]\n  gamblng: [slots]\n"
        "  drugs: weed\n")
    assert run(folder) == [
        at(folder, 5, "unknown topic 'gamblng' (known: general, alcohol, drugs, gambling, "
                      "eating, family)", "words/en.yaml"),
        at(folder, 6, "expected a list of words or phrases", "words/en.yaml")]


def test_all_any_not_conditions_are_checked_inside(write_dialogs):
    folder = one_dialog(write_dialogs, """\
        dialog: x
        start: a
        states:
          a:
            say: hi
            expect: text
            save: mood
            next:
              - {if: {all: [{answered: mood}, {any: [answerd, {below: {mood: x}}]}]}, to: b}
              - {if: {not: [answered]}, to: b}
              - {if: {any: []}, to: b}
              - {to: b}
          b:
            say: bye
            end: true
        """)
    assert run(folder) == [
        at(folder, 9, "state 'a': condition 'all' condition 2: 'any' condition 1: unknown "
                       "condition 'answerd' (did you mean 'answered'?)"),
        at(folder, 9, "state 'a': condition 'all' condition 2: 'any' condition 2: 'below' "
                       "expects {key: number}, e.g. {urge.before: 7}"),
        at(folder, 10, "state 'a': condition 'not' expects a condition's name or "
                       "{name: arguments}"),
        at(folder, 11, "state 'a': condition 'any' expects a list of conditions, e.g. "
                       "[{answered: mood}, {below: {mood: 3}}]"),
    ]


@pytest.mark.parametrize(("file", "breaking", "problem"), [
    ("help.yaml", ("dialog: help\n", "dialog: help\ncolour: red\n"), "help.yaml:6: unknown key "),
    ("goals.yaml", ("start: check\n", "start: check\n  oops: [unclosed\n"), "goals.yaml:"),
    ("cba.yaml", ("dialog: cba\n", "dialog: [cba\n"), "cba.yaml:"),
])
def test_a_broken_file_is_one_problem_not_its_follow_ons(tmp_path, dialogs_dir, file, breaking,
                                                          problem):
    """Not "no dialog has command: help", "intent 'goals' leads nowhere", "unknown dialog
    'goals'" or "{cba.benefits_quit}, which no dialog saves" in the files around it."""
    folder = tmp_path / "dialogs"
    shutil.copytree(dialogs_dir, folder)
    path = folder / file
    path.write_text(path.read_text(encoding="utf-8").replace(*breaking, 1), encoding="utf-8")
    _, problems = check_directory(folder, default_registry())
    shown = [str(p).replace(f"{folder}/", "") for p in problems]
    assert len(shown) == 1 and shown[0].startswith(problem), shown
