import CFuse
@testable import FuseKit
import Glibc
import Testing

@Suite("Request decoding and reply encoding")
struct DecodingTests {
    @Test func openFlagsReadTheAccessModeAndFlags() {
        let readOnly = OpenFlags(rawValue: O_RDONLY)
        #expect(readOnly.wantsRead && !readOnly.wantsWrite && !readOnly.append && !readOnly.truncate)
        let append = OpenFlags(rawValue: O_WRONLY | O_APPEND)
        #expect(!append.wantsRead && append.wantsWrite && append.append && !append.truncate)
        let truncate = OpenFlags(rawValue: O_RDWR | O_TRUNC | O_CLOEXEC)
        #expect(truncate.wantsRead && truncate.wantsWrite && !truncate.append && truncate.truncate)
    }

    @Test func setattrTakesOnlyTheFieldsItNames() {
        var attr = stat()
        attr.st_size = 10
        attr.st_mode = 0o104755
        attr.st_uid = 5
        attr.st_gid = 6
        let changes = AttributeChanges(attr, toSet: FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_MODE)
        #expect(changes == AttributeChanges(size: 10, permissions: 0o4755))
        let owners = AttributeChanges(attr, toSet: FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID | FUSE_SET_ATTR_MTIME_NOW)
        #expect(owners == AttributeChanges(uid: 5, gid: 6, times: true))
        #expect(AttributeChanges(nil, toSet: FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_CTIME) == AttributeChanges(times: true))
        #expect(AttributeChanges(attr, toSet: 0) == AttributeChanges())
    }

    @Test func statCarriesKindPermissionsAndTimes() {
        let attributes = FileAttributes(
            inode: InodeNumber(42), kind: .directory, permissions: 0o170755, size: 0,
            linkCount: 3, uid: 7, gid: 8, time: 1_700_000_000)
        let st = makeStat(attributes)
        #expect(st.st_ino == 42)
        #expect(st.st_mode == 0o040755)
        #expect(st.st_nlink == 3 && st.st_uid == 7 && st.st_gid == 8)
        #expect(
            st.st_mtim.tv_sec == 1_700_000_000 && st.st_atim.tv_sec == 1_700_000_000
                && st.st_ctim.tv_sec == 1_700_000_000)
        #expect(
            makeStat(FileAttributes(inode: .root, kind: .symbolicLink, permissions: 0o777, size: 4)).st_mode == 0o120777
        )
        #expect(
            makeStat(FileAttributes(inode: .root, kind: .regular, permissions: 0o644, size: .max)).st_size == Int.max)
    }

    @Test func entryAndFileInfoCarryTheReply() {
        let attributes = FileAttributes(inode: InodeNumber(9), kind: .regular, permissions: 0o600, size: 48)
        let entry = makeEntry(attributes, timeout: 2.5)
        #expect(entry.ino == 9 && entry.generation == 1 && entry.attr.st_size == 48)
        #expect(entry.attr_timeout == 2.5 && entry.entry_timeout == 2.5)
        let info = makeFileInfo(
            OpenReply(handle: FileHandle(rawValue: 77), directIO: true, nonSeekable: false, noFlush: true))
        #expect(info.fh == 77)
        #expect(info.direct_io == 1 && info.keep_cache == 0 && info.nonseekable == 0 && info.noflush == 1)
        let cached = makeFileInfo(OpenReply(noFlush: true, keepCache: true))
        #expect(cached.direct_io == 0 && cached.keep_cache == 1 && cached.noflush == 1)
    }

    @Test func statvfsCarriesTheStatistics() {
        let sv = makeStatvfs(FilesystemStatistics(blockSize: 512, maximumNameLength: 100, files: 12))
        #expect(sv.f_bsize == 512 && sv.f_frsize == 512 && sv.f_namemax == 100 && sv.f_files == 12)
    }
}
