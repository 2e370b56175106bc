@testable import FuseKit
import Testing

/// One `struct fuse_dirent` read back from a packed buffer.
private struct Dirent: Equatable {
    var inode: UInt64
    var offset: UInt64
    var type: UInt32
    var name: String
}

/// Reads `fuse_dirent` records: ino (8), off (8), namelen (4), type (4), name padded to 8 bytes.
private func unpack(_ bytes: [UInt8]) -> [Dirent]? {
    func integer(_ at: Int, _ width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) }
    }
    var entries: [Dirent] = []
    var at = 0
    while at < bytes.count {
        guard at + 24 <= bytes.count else { return nil }
        let length = Int(integer(at + 16, 4))
        guard at + 24 + length <= bytes.count else { return nil }
        let name = String(decoding: bytes[(at + 24)..<(at + 24 + length)], as: UTF8.self)
        entries.append(
            Dirent(inode: integer(at, 8), offset: integer(at + 8, 8), type: UInt32(integer(at + 20, 4)), name: name))
        at += (24 + length + 7) & ~7
    }
    return entries
}

@Suite("readdir packing")
struct DirectoryPackingTests {
    let entries = [
        DirectoryEntry(name: ".", inode: InodeNumber(1), kind: .directory),
        DirectoryEntry(name: "..", inode: InodeNumber(1), kind: .directory),
        DirectoryEntry(name: "hash_algo", inode: InodeNumber(5), kind: .regular),
        DirectoryEntry(name: "link", inode: InodeNumber(6), kind: .symbolicLink),
    ]

    @Test func everyEntryFitsAndPointsAtTheNext() {
        let packed = packDirectory(entries, offset: 0, size: 4096)
        // 32 + 32 + 40 (24 + 9 padded) + 32 bytes.
        #expect(packed.count == 136)
        #expect(
            unpack(packed) == [
                Dirent(inode: 1, offset: 1, type: 4, name: "."),
                Dirent(inode: 1, offset: 2, type: 4, name: ".."),
                Dirent(inode: 5, offset: 3, type: 8, name: "hash_algo"),
                Dirent(inode: 6, offset: 4, type: 10, name: "link"),
            ])
    }

    @Test func aFullBufferStopsBeforeTheEntryThatDoesNotFit() {
        let packed = packDirectory(entries, offset: 0, size: 100)
        #expect(unpack(packed)?.map(\.name) == [".", ".."])
        #expect(packed.count == 64)
    }

    @Test func aListingResumesAtTheOffsetItGave() {
        let first = packDirectory(entries, offset: 0, size: 64)
        let resume = Int(unpack(first)?.last?.offset ?? 0)
        #expect(resume == 2)
        #expect(unpack(packDirectory(entries, offset: resume, size: 4096))?.map(\.name) == ["hash_algo", "link"])
    }

    @Test func theEndAndTinyBuffersAreEmpty() {
        #expect(packDirectory(entries, offset: 4, size: 4096).isEmpty)
        #expect(packDirectory(entries, offset: 99, size: 4096).isEmpty)
        #expect(packDirectory(entries, offset: 0, size: 31).isEmpty)
        #expect(packDirectory(entries, offset: 0, size: 0).isEmpty)
        #expect(packDirectory([], offset: 0, size: 4096).isEmpty)
        #expect(unpack(packDirectory(entries, offset: -3, size: 32))?.map(\.name) == ["."])
    }
}
