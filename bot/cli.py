"""The `smart-coach` command: run, chat, validate, train, graph. `python -m bot` is the same."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from pathlib import Path

from bot.config import Config, default_dialogs_dir, load_config
from bot.dialog.loader import check_directory, load_catalog
from bot.errors import BotError, DialogError
from bot.tools import default_registry


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        code: int = args.run(args)
        return code
    except DialogError as exc:
        _print_problems(exc, "; fix them and start again")
        return 1
    except BotError as exc:
        print(f"smart-coach: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smart-coach", description="A self-help coach built on SMART Recovery's tools.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="talk to the coach in this terminal (no set-up needed)")
    chat.add_argument("--user", type=int, default=1, help="who you are (default 1); use "
                      "different numbers to simulate different people")
    chat.add_argument("--language", metavar="CODE", help="the language your app would report "
                      "(es, es-MX ...): the bot speaks it from your first message, if it has "
                      "a translation (default: English; /language changes it)")
    _common(chat)
    chat.add_argument("--db", type=Path, help="the SQLite database (default: storage.path, "
                      "else ~/.local/share/smart-coach/coach.db)")
    chat.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="bold and italic as ANSI: auto (default) in a terminal that shows "
                      "them, unless NO_COLOR is set; always; never")
    chat.set_defaults(run=_chat)

    validate = sub.add_parser("validate", help="check dialog files; exit 1 listing every problem")
    validate.add_argument("directory", nargs="?", type=Path,
                          help=f"the dialogs folder (default {default_dialogs_dir()})")
    validate.set_defaults(run=_validate)

    train = sub.add_parser("train", help="train the intent and risk models on the examples and "
                           "ship their weights (after editing intent or crisis examples; needs "
                           "scikit-learn: pip install -e '.[train]')")
    train.add_argument("--dialogs", type=Path,
                       help=f"the dialogs folder (default {default_dialogs_dir()})")
    train.add_argument("--language", action="append", metavar="CODE",
                       help="train this language only (en, es ...); may be repeated "
                            "(default: every language with a file in intents/)")
    train.set_defaults(run=_train)

    test = sub.add_parser("test", help="play transcripts (the conversations you expect) against "
                          "the dialogs; exit 1 showing each that differs")
    test.add_argument("transcripts", nargs="*", type=Path, metavar="TRANSCRIPT",
                      help="transcript files or folders (default: tests/transcripts beside the "
                           "dialogs folder)")
    test.add_argument("--dialogs", type=Path,
                      help=f"the dialogs folder (default {default_dialogs_dir()})")
    test.set_defaults(run=_test)

    new = sub.add_parser("new-dialog", help="write a new dialog, its transcript and its "
                         "translations' overlays, ready to edit")
    new.add_argument("name", help="the dialog's name, which is also its /command (e.g. halt)")
    new.add_argument("--dialogs", type=Path,
                     help=f"the dialogs folder (default {default_dialogs_dir()})")
    new.add_argument("--transcripts", type=Path, help="where its transcript goes (default: "
                     "tests/transcripts beside the dialogs folder)")
    new.set_defaults(run=_new_dialog)

    run = sub.add_parser("run", help="run the bot on Telegram (needs a token from @BotFather)")
    run.add_argument("--config", type=Path, help="config.yaml (see config.example.yaml)")
    run.set_defaults(run=_run)

    graph = sub.add_parser("graph", help="draw a dialog's state diagram")
    graph.add_argument("dialog", help="the dialog's name, e.g. start")
    graph.add_argument("-o", "--output", type=Path, help="FILE.svg/.png (needs graphviz) or "
                       "FILE.mmd (mermaid); default DIALOG.mmd")
    _common(graph)
    graph.set_defaults(run=_graph)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="a config.yaml (optional)")
    parser.add_argument("--dialogs", type=Path, help="the dialogs folder (default ./dialogs)")


def _config(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    if getattr(args, "dialogs", None):
        config = dataclasses.replace(config, dialogs=dataclasses.replace(
            config.dialogs, path=str(args.dialogs)))
    if getattr(args, "db", None):
        config = dataclasses.replace(config, storage=dataclasses.replace(
            config.storage, path=str(args.db)))
    return config


def _print_problems(exc: DialogError, then: str = "") -> None:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    count = len(exc.problems)
    print(f"{count} problem{'s' if count != 1 else ''} in the dialogs{then}.", file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    directory = args.directory or default_dialogs_dir()
    from bot.app import CHANNELS
    from bot.channels.base import button_limit

    catalog, problems = check_directory(directory, default_registry(),
                                        button_limit=button_limit(CHANNELS))
    if problems or catalog is None:
        _print_problems(DialogError(problems))
        return 1
    translated = sorted(set(catalog.languages) - {catalog.source})
    languages = f", in {catalog.source} and {', '.join(translated)}" if translated else ""
    print(f"{directory}: {len(catalog.dialogs)} dialogs and the messages are valid{languages} "
          f"({', '.join(sorted(catalog.dialogs))}).")
    return 0


def _transcripts_of(dialogs: Path) -> Path:
    """Where a dialogs folder's transcripts are: tests/transcripts beside it."""
    return dialogs.resolve().parent / "tests" / "transcripts"


def _test(args: argparse.Namespace) -> int:
    from bot.transcripts import play

    folder = args.dialogs or default_dialogs_dir()
    try:
        load_catalog(folder, default_registry())
    except DialogError as exc:
        _print_problems(exc, then=": fix them, then test")
        return 2
    given = args.transcripts or [_transcripts_of(folder)]
    files = [f for path in given for f in (sorted(path.glob("*.yaml")) if path.is_dir()
                                            else [path])]
    if not files:
        raise BotError(f"no transcripts in {', '.join(map(str, given))}")
    differ = [found for found in (play(f, folder) for f in files) if found is not None]
    for difference in differ:
        print(f"{difference}\n", file=sys.stderr)
    plural = "s" if len(files) != 1 else ""
    print(f"{len(files)} transcript{plural}: {len(files) - len(differ)} as written"
          + (f", {len(differ)} differ" if differ else "") + ".")
    return 1 if differ else 0


def _new_dialog(args: argparse.Namespace) -> int:
    from bot.scaffold import new_dialog, shown

    folder = args.dialogs or default_dialogs_dir()
    made = new_dialog(args.name, folder, args.transcripts or _transcripts_of(folder))
    for path in (made.dialog, made.transcript, *made.overlays):
        print(f"wrote {shown(path)}")
    print(f"Next: change the steps in {shown(made.dialog)}, check them with `smart-coach "
          f"validate {shown(folder)}`, try /{args.name} in `smart-coach chat`, and play the "
          f"transcript with `smart-coach test {shown(made.transcript)}` (README: \"Adding a "
          "tool\").")
    return 0


def _train(args: argparse.Namespace) -> int:
    try:
        from bot.nlu.train import train_dialogs
    except ImportError as exc:
        raise BotError(f"training needs scikit-learn ({exc}): pip install -e '.[train]'") from exc
    folder = args.dialogs or default_dialogs_dir()
    languages = args.language or sorted(p.stem for p in (folder / "intents").glob("*.yaml"))
    if not languages:
        raise BotError(f"{folder / 'intents'}: no intents file (<language>.yaml) to train")
    for language in languages:
        path, models, seconds = train_dialogs(folder, language)
        plural = "s" if len(models) != 1 else ""
        print(f"{path}: {len(models)} model{plural} trained in {seconds:.1f} s "
              f"({path.stat().st_size / 1e6:.2f} MB); commit it with the examples")
    return 0


def _chat(args: argparse.Namespace) -> int:
    import os

    from bot.app import build_app
    from bot.channels.console import ConsoleChat, styled
    from bot.clock import OffsetClock

    config = _config(args)
    # The chat shares the terminal with its logs: only warnings (an operator's config is at
    # INFO for the service's log), unless the config asks for DEBUG.
    level = "DEBUG" if config.logging.level == "DEBUG" else "WARNING"
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # The chat's own clock, which /wait moves forward (the bot's is the system's).
    app = build_app(config, clock=OffsetClock())
    style = args.color == "always" or args.color == "auto" and styled(sys.stdout, os.environ)

    async def session() -> None:
        try:
            await ConsoleChat(app, args.user, sys.stdin, sys.stdout,
                              database=config.db_path, language=args.language,
                              dialogs=config.dialogs_path.resolve(), style=style).run()
        finally:
            app.close()

    asyncio.run(session())
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot import logs
    from bot.app import build_app
    from bot.channels.telegram.channel import MissingToken, TelegramChannel

    config = _config(args)
    if not config.telegram.token:
        raise MissingToken(config.source)
    logs.setup(config.logging.level,
               secrets=[config.telegram.token, config.telegram.webhook.secret_token or ""])
    app = build_app(config)
    try:
        channel = TelegramChannel(app, config.telegram, source=config.source)
    except BotError:
        app.close()
        raise
    try:
        channel.run()
    finally:
        app.close()
    return 0


def _graph(args: argparse.Namespace) -> int:
    from bot.dialog.graph import render

    config = _config(args)
    registry = default_registry()
    catalog = load_catalog(config.dialogs_path, registry)
    spec = catalog.dialogs.get(args.dialog)
    if spec is None:
        print(f"smart-coach: no dialog '{args.dialog}' (there are: "
              f"{', '.join(sorted(catalog.dialogs))})", file=sys.stderr)
        return 1
    out = args.output or Path(f"{spec.name}.mmd")
    written = render(spec, registry, out)
    if written != out:
        print(f"graphviz is not installed (pip install graphviz, plus the 'dot' program), "
              f"so wrote mermaid text instead: {written}", file=sys.stderr)
    print(written)
    return 0
