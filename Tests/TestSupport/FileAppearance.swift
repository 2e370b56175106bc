import Glibc

/// Waits until every path in `paths` exists, or `deadline` passes; true when they all do.
///
/// Observed through inotify (IN_CREATE and IN_MOVED_TO on the deepest directory of each path
/// that exists so far, so a directory made on the way counts too), never slept for: the poll
/// wakes on a change and the paths are looked at again.
public func waitForFiles(_ paths: [String], within deadline: Duration) -> Bool {
    let fd = inotify_init1(Int32(IN_CLOEXEC) | Int32(IN_NONBLOCK))
    guard fd >= 0 else { return paths.allSatisfy { access($0, F_OK) == 0 } }
    defer { close(fd) }
    let clock = ContinuousClock(), end = clock.now + deadline
    while true {
        let missing = paths.filter { access($0, F_OK) != 0 }
        if missing.isEmpty { return true }
        for path in missing {
            // Watched before the next look: a file made after that look wakes the poll.
            _ = inotify_add_watch(fd, deepestDirectory(of: path), UInt32(IN_CREATE | IN_MOVED_TO))
        }
        if paths.allSatisfy({ access($0, F_OK) == 0 }) { return true }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let left = clock.now.duration(to: end)
        if poll(&entry, 1, max(0, milliseconds(left))) == 0 && clock.now >= end {
            return paths.allSatisfy { access($0, F_OK) == 0 }
        }
        var events = [UInt8](repeating: 0, count: 4096)
        while (events.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}

/// The longest existing directory among `path`'s ancestors ("/" at least).
private func deepestDirectory(of path: String) -> String {
    var components = path.split(separator: "/").dropLast()
    while !components.isEmpty {
        let candidate = "/" + components.joined(separator: "/")
        var st = stat()
        if stat(candidate, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR { return candidate }
        components = components.dropLast()
    }
    return "/"
}
