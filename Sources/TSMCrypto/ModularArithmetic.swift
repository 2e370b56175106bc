/// Arithmetic modulo a curve order, just enough for RFC 6979 signing and scalar derivation.
///
/// Numbers are little-endian arrays of 64-bit limbs, one limb wider than the modulus so sums
/// and doublings never overflow. Speed is not a goal: the mock authority signs a handful of
/// messages per report. Not constant-time: these are mock keys derived from a public seed.
struct ModularArithmetic: Sendable {
    typealias Number = [UInt64]

    let modulus: Number
    let width: Int

    /// `modulusBigEndian` is the curve order as printed in SEC 2 / FIPS 186.
    init(modulusBigEndian: [UInt8]) {
        let limbs = (modulusBigEndian.count + 7) / 8
        width = limbs + 1
        modulus = Self.number(bigEndian: modulusBigEndian, width: limbs + 1)
    }

    /// A number from big-endian bytes; `width` limbs, or just enough when nil.
    static func number(bigEndian bytes: [UInt8], width: Int? = nil) -> Number {
        let limbs = width ?? (bytes.count + 7) / 8
        var result = Number(repeating: 0, count: max(limbs, (bytes.count + 7) / 8))
        for (index, byte) in bytes.reversed().enumerated() {
            result[index / 8] |= UInt64(byte) << UInt64((index % 8) * 8)
        }
        return result
    }

    /// The low `count` bytes of `value`, big-endian.
    static func bigEndianBytes(_ value: Number, count: Int) -> [UInt8] {
        (0..<count).reversed().map { index in
            let limb = index / 8
            return limb < value.count ? UInt8(truncatingIfNeeded: value[limb] >> UInt64((index % 8) * 8)) : 0
        }
    }

    static func isZero(_ value: Number) -> Bool { value.allSatisfy { $0 == 0 } }

    static func compare(_ lhs: Number, _ rhs: Number) -> Int {
        for index in (0..<max(lhs.count, rhs.count)).reversed() {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            if left != right { return left < right ? -1 : 1 }
        }
        return 0
    }

    /// `lhs - rhs` for `lhs >= rhs`, at `lhs`'s width.
    static func subtract(_ lhs: Number, _ rhs: Number) -> Number {
        var result = lhs
        var borrow: UInt64 = 0
        for index in 0..<result.count {
            let right = index < rhs.count ? rhs[index] : 0
            let (partial, overflow1) = result[index].subtractingReportingOverflow(right)
            let (difference, overflow2) = partial.subtractingReportingOverflow(borrow)
            result[index] = difference
            borrow = (overflow1 || overflow2) ? 1 : 0
        }
        return result
    }

    /// `lhs + rhs`, at `lhs`'s width (the caller leaves room for the carry).
    static func add(_ lhs: Number, _ rhs: Number) -> Number {
        var result = lhs
        var carry: UInt64 = 0
        for index in 0..<result.count {
            let right = index < rhs.count ? rhs[index] : 0
            let (partial, overflow1) = result[index].addingReportingOverflow(right)
            let (sum, overflow2) = partial.addingReportingOverflow(carry)
            result[index] = sum
            carry = (overflow1 || overflow2) ? 1 : 0
        }
        return result
    }

    static func shiftedRight(_ value: Number) -> Number {
        var result = value
        for index in 0..<result.count {
            let high = index + 1 < result.count ? result[index + 1] << 63 : 0
            result[index] = result[index] >> 1 | high
        }
        return result
    }

    /// `value mod modulus`, for a value of any width, one bit at a time.
    func reduce(_ value: Number) -> Number {
        var remainder = Number(repeating: 0, count: width)
        for bit in (0..<(value.count * 64)).reversed() {
            // remainder < modulus, so 2·remainder + 1 fits in `width` limbs.
            remainder = Self.add(remainder, remainder)
            remainder[0] |= (value[bit / 64] >> UInt64(bit % 64)) & 1
            if Self.compare(remainder, modulus) >= 0 {
                remainder = Self.subtract(remainder, modulus)
            }
        }
        return remainder
    }

    func add(_ lhs: Number, _ rhs: Number) -> Number {
        reduce(Self.add(widened(lhs), rhs))
    }

    func multiply(_ lhs: Number, _ rhs: Number) -> Number {
        var product = Number(repeating: 0, count: lhs.count + rhs.count)
        for i in 0..<lhs.count {
            var carry: UInt64 = 0
            for j in 0..<rhs.count {
                let (high, low) = lhs[i].multipliedFullWidth(by: rhs[j])
                let (sum1, overflow1) = product[i + j].addingReportingOverflow(low)
                let (sum2, overflow2) = sum1.addingReportingOverflow(carry)
                product[i + j] = sum2
                carry = high &+ (overflow1 ? 1 : 0) &+ (overflow2 ? 1 : 0)
            }
            product[i + rhs.count] = carry
        }
        return reduce(product)
    }

    /// The inverse of `value` modulo an odd modulus (binary extended Euclid), or nil when
    /// `value` is zero or shares a factor with the modulus.
    func inverse(_ value: Number) -> Number? {
        var u = reduce(value)
        var v = modulus
        var x1 = widened([1])
        var x2 = widened([0])
        let one = widened([1])
        guard !Self.isZero(u) else { return nil }
        while Self.compare(u, one) != 0 && Self.compare(v, one) != 0 {
            if Self.isZero(u) || Self.isZero(v) { return nil }
            while u[0] & 1 == 0 {
                u = Self.shiftedRight(u)
                x1 = halved(x1)
            }
            while v[0] & 1 == 0 {
                v = Self.shiftedRight(v)
                x2 = halved(x2)
            }
            if Self.compare(u, v) >= 0 {
                u = Self.subtract(u, v)
                x1 = subtractModular(x1, x2)
            } else {
                v = Self.subtract(v, u)
                x2 = subtractModular(x2, x1)
            }
        }
        return Self.compare(u, one) == 0 ? x1 : x2
    }

    private func widened(_ value: Number) -> Number {
        value.count >= width ? value : value + Number(repeating: 0, count: width - value.count)
    }

    /// `value / 2 mod modulus` for `value < modulus` and an odd modulus.
    private func halved(_ value: Number) -> Number {
        value[0] & 1 == 0 ? Self.shiftedRight(value) : Self.shiftedRight(Self.add(value, modulus))
    }

    private func subtractModular(_ lhs: Number, _ rhs: Number) -> Number {
        Self.compare(lhs, rhs) >= 0 ? Self.subtract(lhs, rhs) : Self.subtract(Self.add(lhs, modulus), rhs)
    }
}
