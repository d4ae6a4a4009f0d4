"""`oura demo` command line: registration on a parent parser, generate end to end."""

import argparse

from oura.demo.cli import main, register


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oura")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_register_adds_generate_and_realtime_with_examples(capsys):
    parser = _parser()
    args = parser.parse_args(["demo", "realtime", "--registry", "x/registry.toml", "--port", "9999"])
    assert args.port == 9999 and args.seed == 1 and callable(args.func)
    args = parser.parse_args(["demo", "generate", "--out", "o", "--scale", "2.5", "--start-date", "2025-03-05"])
    assert args.scale == 2.5 and args.format == "zip" and str(args.start_date) == "2025-03-05"
    try:
        parser.parse_args(["demo", "generate", "--help"])
    except SystemExit:
        pass
    assert "examples:" in capsys.readouterr().out


def test_generate_command_writes_a_region(tmp_path, capsys):
    code = main(["generate", "--out", str(tmp_path), "--scale", "0.05", "--start-date", "2025-03-05",
                 "--days", "7", "--format", "dir", "--realtime-port", "9191"])
    assert code == 0
    assert "27 feeds" in capsys.readouterr().out
    assert "http://127.0.0.1:9191/rt/ter/alerts.pb" in (tmp_path / "registry.toml").read_text(encoding="utf-8")
    assert (tmp_path / "gtfs" / "tcl" / "stop_times.txt").exists()
