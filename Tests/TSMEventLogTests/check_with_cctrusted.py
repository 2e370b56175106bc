#!/usr/bin/env python3
"""Reads tsmfs's CCEL table and log the way Intel's cctrusted 0.5.0 reads a TD's, and prints the
RTMRs its replay gives.

    check_with_cctrusted.py TABLE DATA [FULL_LOG]

TABLE and DATA are what tsmfs serves at sys/firmware/acpi/tables/CCEL and .../data/CCEL. They go
through cctrusted_vm's TdxVM.process_eventlog with its fixed /sys paths pointed at the files, then
through cctrusted_base's EventLogs parser and replay, as CCTrustedVmSdk.get_cc_eventlog and
replay_cc_eventlog do. Every parsed record's event data also goes through cctrusted's
parse_event_data and dump, which read the UEFI structures of their event types. FULL_LOG, if
given, is a boot log followed by runtime records, parsed and replayed the same way.

Prints "<log> rtmr<N> <hex>" for N = 0..3 (48 zero bytes for a register with no record), one
"<log> events <count>" line per log, and exits 0. Exits 77 when cctrusted cannot be imported,
1 when it refuses the files.
"""
import logging
import sys

try:
    from cctrusted_base.ccel import CCEL
    from cctrusted_base.eventlog import EventLogs, TcgEventLog
    from cctrusted_base.tcg import TcgAlgorithmRegistry, TcgImrEvent, TcgPcClientImrEvent
    from cctrusted_vm import cvm
except ImportError as error:  # pragma: no cover - the Swift test skips before this
    print(f"cctrusted not importable: {error}", file=sys.stderr)
    sys.exit(77)

SHA384 = TcgAlgorithmRegistry.TPM_ALG_SHA384


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def read_through_tdxvm(table_path, data_path):
    """TdxVM.process_eventlog with its path constants monkeypatched to the given files."""
    cvm.TdxVM.ACPI_TABLE_FILE = table_path
    cvm.TdxVM.ACPI_TABLE_DATA_FILE = data_path
    cvm.TdxVM.IMA_DATA_FILE = "/nonexistent/tsmfs-no-ima"
    vm = cvm.TdxVM()
    if not vm.process_eventlog():
        fail("TdxVM.process_eventlog refused the CCEL files")
    return vm.boot_time_event_log, vm.runtime_event_log


def parse_and_replay(name, boot_time, runtime):
    logs = EventLogs(boot_time, runtime, TcgEventLog.TCG_FORMAT_PCCLIENT)
    logs.select(None, None)
    events = logs.event_logs
    if not events or not isinstance(events[0], TcgPcClientImrEvent):
        fail(f"{name}: the first record is not read as the Spec ID event")
    if EventLogs.spec_id_header_event.signature != b"Spec ID Event03\x00":
        fail(f"{name}: Spec ID signature {EventLogs.spec_id_header_event.signature!r}")
    for event in events:
        event.dump()
        if isinstance(event, TcgImrEvent):
            event.parse_event_data()
    replayed = EventLogs.replay(events)
    unexpected = set(replayed) - {0, 1, 2, 3}
    if unexpected:
        fail(f"{name}: replay touched registers {sorted(unexpected)}, not only RTMR0-3")
    print(f"{name} events {len(events)}")
    for rtmr in range(4):
        value = replayed.get(rtmr, {}).get(SHA384, bytes(48))
        print(f"{name} rtmr{rtmr} {bytes(value).hex()}")


def main():
    if len(sys.argv) not in (3, 4):
        fail(__doc__)
    logging.basicConfig(level=logging.CRITICAL)
    with open(sys.argv[1], "rb") as table_file:
        table = CCEL(table_file.read())
    if not table.is_valid():
        fail("cctrusted's CCEL.is_valid refuses the table")
    if table.cc_type != 2:
        fail(f"CC type {table.cc_type}, not 2 (TDX)")
    boot_time, runtime = read_through_tdxvm(sys.argv[1], sys.argv[2])
    if len(boot_time) != table.log_area_minimum_length:
        fail(f"data/CCEL is {len(boot_time)} bytes, LAML says {table.log_area_minimum_length}")
    print(f"ccel revision {table.revision} cc_type {table.cc_type} laml {table.log_area_minimum_length}")
    parse_and_replay("boot", boot_time, runtime)
    if len(sys.argv) == 4:
        with open(sys.argv[3], "rb") as full_file:
            parse_and_replay("full", full_file.read(), None)


if __name__ == "__main__":
    main()
