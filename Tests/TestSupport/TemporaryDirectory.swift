import Glibc

/// A fresh directory `/tmp/LABEL.XXXXXX` (mkdtemp), removed by the caller.
public func makeTemporaryDirectory(_ label: String = "tsmfs-test") throws -> String {
    var template = Array("/tmp/\(label).XXXXXX".utf8CString)
    guard let result = mkdtemp(&template) else { throw TemporaryDirectoryError(errno: errno) }
    return String(cString: result)
}

/// mkdtemp failed with `errno`.
public struct TemporaryDirectoryError: Error, CustomStringConvertible {
    public var errno: Int32
    public var description: String { "mkdtemp: \(String(cString: strerror(errno)))" }
}
