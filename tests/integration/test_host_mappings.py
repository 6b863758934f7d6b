"""Guests with more VMAs and host mappings than the host allows, on both platforms.

The guest's VMAs follow Linux's vm.max_map_count (ENOMEM once 65530 are
reached); its host mappings are a bounded cache (``umlpy.mm.hostcache``), so a
guest whose pages need more host mappings than the budget keeps running,
refilling on faults.  Each program is compared with its native run.
"""

import os
import subprocess

import umlpy
from umlpy.api import guest_env
from umlpy.mm import hostcache


def run_native(argv) -> subprocess.CompletedProcess:
    """As test_differential runs natively: the guest's default environment, empty stdin."""
    env = dict(item.decode().split("=", 1) for item in guest_env())
    return subprocess.run(argv, input=b"", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          timeout=60)


def assert_same(native, guest):
    assert guest.stdout == native.stdout
    assert guest.returncode == native.returncode


class EvictionCounter:
    """Counts HostCache.evict calls that unmap something, across every mm of a run."""

    def __init__(self, monkeypatch):
        self.count = 0
        real = hostcache.HostCache.evict

        def evict(cache, lo=None, hi=None):
            if cache.mapped or lo is not None:
                self.count += 1
            return real(cache, lo, hi)
        monkeypatch.setattr(hostcache.HostCache, "evict", evict)


def test_vma_limit_mprotect_every_other_page(guest_bin, platform, monkeypatch):
    """70,000 touched pages, then mprotect of every other page: ENOMEM at the
    guest's limit as natively, never a host mapping failure (which used to kill
    the run with exit 125)."""
    path = os.path.join(guest_bin, "vmlimit-musl")
    native = run_native([path])
    assert native.returncode == 0 and b"first errno: ENOMEM" in native.stdout
    assert b"vmas at the limit: 65530\n" in native.stdout
    evictions = EvictionCounter(monkeypatch)
    guest = umlpy.run([path], platform=platform, capture=True)
    assert_same(native, guest)
    assert b"umlpy:" not in guest.stderr
    # ~65530 host runs of alternating protection do not fit the default budget.
    assert evictions.count > 0


def test_more_host_mappings_than_the_budget(guest_bin, platform, monkeypatch):
    """Alternating protections and COW after fork, with a budget of 128 host
    mappings: thousands of evictions and refills, same output as natively."""
    monkeypatch.setenv(hostcache.BUDGET_ENV, "128")
    path = os.path.join(guest_bin, "vmlimit-musl")
    native = run_native([path, "cow", "3000"])
    assert native.returncode == 0 and native.stdout.endswith(b"parent: bad 0, child status 0\n")
    evictions = EvictionCounter(monkeypatch)
    guest = umlpy.run([path, "cow", "3000"], platform=platform, capture=True)
    assert_same(native, guest)
    assert evictions.count > 20
