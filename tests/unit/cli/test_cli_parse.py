"""``umlpy run``'s quick command-line reader agrees with argparse wherever it answers."""

import pytest

from umlpy import cli

CASES = [
    ["run"],
    ["run", "prog"],
    ["run", "/bin/ls", "-la", "/usr"],
    ["run", "--rootfs", "/tmp/root", "/init", "a", "b"],
    ["run", "--rootfs=/tmp/root", "--platform", "python", "prog"],
    ["run", "--platform=c", "--memory", "512M", "prog", "--memory", "2G"],
    ["run", "--memory=64k", "--env", "A=1", "--env=B=2=3", "prog"],
    ["run", "--clean-env", "--deterministic", "prog", "--deterministic"],
    ["run", "--gdb", "1234", "prog"],
    ["run", "--vas-store", "/tmp/store", "prog", "x"],
    ["run", "-", "x"],
    ["run", "", "x"],
    ["run", "--rootfs", "a", "--rootfs", "b"],
    ["run", "--deterministic"],
    ["run", "--net", "none", "--bind", "/tmp:/mnt", "--bind=/a:/b:ro", "prog"],
    ["run", "--net=loopback", "prog"],
]

#: Command lines the quick reader leaves to argparse (which reads or refuses them).
DECLINED = [
    ["run", "--help"], ["run", "-h"], ["run", "--root", "x", "prog"], ["run", "--memory", "lots", "prog"],
    ["run", "--platform", "vax", "prog"], ["run", "--env", "NOEQUALS", "prog"], ["run", "--gdb", "99999", "p"],
    ["run", "--gdb", "-1", "p"], ["run", "--rootfs"], ["run", "--clean-env=1", "p"], ["run", "--", "prog"], ["run", "prog", "--", "x"],
    ["run", "--rootfs", "-x", "prog"], ["run", "--net", "host2", "p"], ["trace", "prog"], [], ["--version"], ["syscalls"],
]


@pytest.mark.parametrize("argv", CASES, ids=lambda a: " ".join(a) or "empty")
def test_quick_reader_matches_argparse(argv):
    quick = cli.parse_run_fast(argv)
    assert quick is not None
    assert vars(quick) == vars(cli.build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", DECLINED, ids=lambda a: " ".join(a) or "empty")
def test_quick_reader_declines_the_unusual(argv):
    assert cli.parse_run_fast(argv) is None
