/// The sysfs/kernfs rules for binary attributes (ABI.md section 1), applied before a register's
/// callbacks run. Pure functions of offset, count and size.
public enum AttributeRules {
    /// kernfs hands at most one page to a callback per read or write.
    public static let pageSize = 4096

    /// The byte range a read of `count` bytes at `offset` copies; empty at or past the end.
    public static func readRange(offset: Int64, count: Int, size: Int) -> Range<Int> {
        guard count > 0, offset >= 0, offset < Int64(size) else { return 0..<0 }
        let start = Int(offset)
        return start..<(start + min(count, size - start, pageSize))
    }

    /// How many bytes of a write reach the register: EFBIG at or past the end (checked first, as
    /// sysfs does), 0 for an empty write, else the count cut to the page and to the end. tsm-mr
    /// then accepts only the whole register at offset 0 (EINVAL otherwise), so a longer write at 0
    /// succeeds as a short write of the register size.
    public static func acceptedWrite(offset: Int64, count: Int, size: Int) throws(MRError) -> Int {
        guard offset >= 0 else { throw .invalidWrite }
        guard offset < Int64(size) else { throw .writePastEnd }
        let accepted = min(count, pageSize, size - Int(offset))
        if accepted == 0 { return 0 }
        guard offset == 0, accepted == size else { throw .invalidWrite }
        return accepted
    }
}
