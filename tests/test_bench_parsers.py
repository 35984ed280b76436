"""The benchmark suite's parsers (bench/lib), checked on the host in well
under a second: wrk's report, the Linux guest's module load order from
modules.dep. No VM is booted; `make bench` is never part of make check."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bench" / "lib"))

import ioimages  # noqa: E402
import network  # noqa: E402

WRK_REPORT = """Running 30s test @ http://127.0.0.1:41743/hello?n=1
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.82ms   60.79ms 905.39ms   96.73%
    Req/Sec   365.91    262.09     1.08k    68.18%
  Latency Distribution
     50%  812.00us
     75%    4.23ms
     90%   10.11ms
     99%    1.21s
  54120 requests in 30.02s, 6.55MB read
  Socket errors: connect 0, read 0, write 0, timeout 12
  Non-2xx or 3xx responses: 3
Requests/sec:   1802.79
Transfer/sec:    223.41KB
"""


def test_wrk_report_gives_rate_percentiles_in_ms_and_errors():
    got = network.parse_wrk(WRK_REPORT)
    assert got["rps"] == 1802.79
    assert abs(got["p50"] - 0.812) < 1e-9 and got["p99"] == 1210.0
    assert got["errors"] == "3 non-2xx; connect 0, read 0, write 0, timeout 12"


def test_wrk_report_without_a_rate_is_a_failure():
    assert network.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n") is None


def test_modules_load_after_what_they_need(tmp_path):
    (tmp_path / "modules.dep").write_text(
        "kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko\n"
        "kernel/drivers/virtio/virtio_ring.ko:\n"
        "kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
        "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko "
        "kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
        "kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko\n"
        "kernel/net/core/failover.ko:\n"
        "kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n")
    mods = ioimages.Modules(None, directory=tmp_path)
    assert mods.load_order(ioimages.NET_MODULES) == [
        "virtio_ring", "virtio", "virtio_mmio", "failover", "net_failover", "virtio_net"]
    assert mods.missing(ioimages.NET_MODULES) is None
    assert "compressed" in mods.missing(ioimages.DISK_MODULES)
    assert "not found" in mods.missing(["e1000"])
