import TSMModel

/// A ``MeasurementBackend`` that records every successful extend of a TDX RTMR in a
/// ``MeasurementLog``: the hook of `tdx_guest`'s `tm->write()` and of RFC v2's `rtmrN/digest`
/// writes alike, since both faces reach the provider's backend.
///
/// The provider calls `extend` with its lock held; the backend extends and appends inside the
/// runtime log's lock, so records are in the order the registers changed, whatever the number of
/// writers. A failed extend records nothing. When the runtime log is full the extend is refused
/// with ENOSPC and the register keeps its value. Registers that are not RTMRs extend unlogged.
public struct EventLoggingBackend: MeasurementBackend {
    /// The backend that computes.
    public let inner: any MeasurementBackend
    /// Where successful RTMR extends are recorded.
    public let log: MeasurementLog
    /// RTMR number by register index.
    private let rtmrByIndex: [Int: Int]

    /// - Parameters:
    ///   - inner: the backend that computes (the software model, usually).
    ///   - rtmrs: the indices of the provider's registers that are RTMR0...RTMR3, in that order.
    public init(wrapping inner: any MeasurementBackend, log: MeasurementLog, rtmrs: [Int]) {
        self.inner = inner
        self.log = log
        var map: [Int: Int] = [:]
        for (rtmr, index) in rtmrs.prefix(TCGEvent.rtmrCount).enumerated() { map[index] = rtmr }
        self.rtmrByIndex = map
    }

    /// The inner backend's refresh; a refresh extends nothing, so nothing is logged.
    public func refresh(_ registers: inout RegisterValues) throws(MRError) {
        try inner.refresh(&registers)
    }

    public var refreshMayFail: Bool { inner.refreshMayFail }

    /// Extends through `inner`, then appends the record; ENOSPC (and no extend) when the runtime
    /// log is full, EINVAL when an RTMR is extended with other than 48 bytes.
    public func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
        guard let rtmr = rtmrByIndex[index] else {
            return try inner.extend(index, with: data, in: &registers)
        }
        let record: RuntimeRecord
        do {
            record = try RuntimeRecord(rtmr: rtmr, data: data, event: MeasurementLog.pendingEvent ?? [])
        } catch {
            throw .invalidWrite
        }
        try log.runtime.transaction { (appender: inout RuntimeLog.Appender) throws(MRError) in
            do {
                try appender.check(record)
            } catch {
                throw .backend(.noSpace)
            }
            try inner.extend(index, with: data, in: &registers)
            // `check` passed under the same lock: this append cannot fail.
            try? appender.append(record)
        }
    }
}
