import Crypto
import TSMModel

/// The key of a layout's ``LayoutField/Source/mac(of:)`` fields: the daemon's own stand-in for
/// the CPU's report MAC key (a TDREPORT's REPORTMACSTRUCT MAC), which no software has.
///
/// 256 bits from swift-crypto's `SymmetricKey(size:)` (the system's random generator), drawn once
/// per process on first use and never written anywhere: not to `--state`, not to the control
/// socket, not to `providers --json` (a descriptor names the covered bytes, never the key). A
/// TDREPORT is therefore quotable only by the daemon that made it, as on hardware only by the
/// platform that made it; after a restart an old TDREPORT's MAC no longer checks, as after a
/// reboot (docs/DECISIONS.md, "TDREPORT as the TDX module makes it").
public enum LayoutKey {
    private static let key = SymmetricKey(size: .bits256)

    /// HMAC-SHA-256 of `bytes` under the daemon's key (32 bytes).
    public static func mac(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: bytes, using: key))
    }

    /// Whether `code` is the daemon's HMAC-SHA-256 of `bytes` (compared in constant time).
    public static func isValid(_ code: ArraySlice<UInt8>, for bytes: ArraySlice<UInt8>) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: bytes, using: key)
    }
}
