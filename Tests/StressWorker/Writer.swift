import Glibc

// MARK: - writer

func writer(path: String, data: [UInt8], seconds: Double, maxWrites: Int, readyFile: String, keepOpen: Bool) {
    let clock = ContinuousClock()
    let end = clock.now + .milliseconds(Int(seconds * 1000))
    var writes = 0
    var failure: Int32 = 0
    var heldFD: Int32 = -1
    if keepOpen {
        heldFD = open(path, O_WRONLY | O_CLOEXEC)
        if heldFD < 0 { failure = errno }
    }
    while failure == 0 && writes < maxWrites && clock.now < end {
        let fd = keepOpen ? heldFD : open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            failure = errno
            break
        }
        let n = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        let writeError = n < 0 ? errno : 0
        if !keepOpen { close(fd) }
        if n != data.count {
            failure = n < 0 ? writeError : EIO
            break
        }
        writes += 1
        if writes == 1 { close(open(readyFile, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)) }
    }
    if heldFD >= 0 { close(heldFD) }
    print("writes \(writes)")
    print("error \(failure)")
}
