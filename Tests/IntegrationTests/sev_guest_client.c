// A /dev/sev-guest client as real ones are written: against Debian's <linux/sev-guest.h>
// (linux-libc-dev), one ioctl per request. Usage: sev_guest_client DEVICE OUTDIR
// Writes OUTDIR/report.bin (SNP_GET_REPORT), OUTDIR/ext-report.bin and OUTDIR/certs.bin (the
// extended report after the two-call sizing) and prints one `name=value` line per check.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/sev-guest.h>

static int device;

static int call(unsigned long command, struct snp_guest_request_ioctl *io) {
    int rc = ioctl(device, command, io);
    return rc == 0 ? 0 : errno;
}

static void save(const char *dir, const char *name, const void *bytes, size_t count) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    if (!file || fwrite(bytes, 1, count, file) != count) { perror(path); exit(2); }
    fclose(file);
}

static void user_data(uint8_t *data) {
    for (int i = 0; i < 64; i++) data[i] = (uint8_t)(i * 7 + 3);
}

static uint32_t u32(const uint8_t *bytes) { uint32_t v; memcpy(&v, bytes, 4); return v; }

static int derive(uint64_t select, uint32_t vmpl, uint8_t key[32]) {
    struct snp_derived_key_req req = { .root_key_select = 0, .guest_field_select = select, .vmpl = vmpl };
    struct snp_derived_key_resp resp;
    memset(&resp, 0xAA, sizeof resp);
    struct snp_guest_request_ioctl io = { .msg_version = 1, .req_data = (uint64_t)&req,
                                          .resp_data = (uint64_t)&resp };
    int err = call(SNP_GET_DERIVED_KEY, &io);
    memcpy(key, resp.data + 32, 32);
    return err ? -err : (int)u32(resp.data);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s DEVICE OUTDIR\n", argv[0]); return 2; }
    device = open(argv[1], O_RDWR);
    if (device < 0) { perror(argv[1]); return 2; }
    const char *dir = argv[2];

    // SNP_GET_REPORT with user data.
    struct snp_report_req report_req = { .vmpl = 0 };
    user_data(report_req.user_data);
    struct snp_report_resp report_resp;
    struct snp_guest_request_ioctl io = { .msg_version = 1, .req_data = (uint64_t)&report_req,
                                          .resp_data = (uint64_t)&report_resp, .exitinfo2 = 0x1234 };
    int err = call(SNP_GET_REPORT, &io);
    printf("report_errno=%d status=%u size=%u exitinfo2=%llx\n", err, u32(report_resp.data),
           u32(report_resp.data + 4), (unsigned long long)io.exitinfo2);
    save(dir, "report.bin", report_resp.data + 32, u32(report_resp.data + 4));

    // SNP_GET_EXT_REPORT: certs_len 0 asks the size.
    struct snp_ext_report_req ext_req = { .certs_address = 0, .certs_len = 0 };
    user_data(ext_req.data.user_data);
    struct snp_report_resp ext_resp;
    io = (struct snp_guest_request_ioctl){ .msg_version = 1, .req_data = (uint64_t)&ext_req,
                                           .resp_data = (uint64_t)&ext_resp };
    err = call(SNP_GET_EXT_REPORT, &io);
    printf("sizing_errno=%d vmm_error=%u fw_error=%u certs_len=%u\n", err, io.vmm_error, io.fw_error,
           ext_req.certs_len);
    uint32_t certs_len = ext_req.certs_len;
    uint8_t *certs = aligned_alloc(4096, certs_len ? certs_len : 4096);
    memset(certs, 0xEE, certs_len);
    ext_req.certs_address = (uint64_t)certs;
    io = (struct snp_guest_request_ioctl){ .msg_version = 1, .req_data = (uint64_t)&ext_req,
                                           .resp_data = (uint64_t)&ext_resp };
    err = call(SNP_GET_EXT_REPORT, &io);
    printf("ext_errno=%d status=%u size=%u\n", err, u32(ext_resp.data), u32(ext_resp.data + 4));
    save(dir, "ext-report.bin", ext_resp.data + 32, u32(ext_resp.data + 4));
    save(dir, "certs.bin", certs, certs_len);

    // SNP_GET_DERIVED_KEY: equal requests, then a different VMPL, then another field selection.
    uint8_t a[32], b[32], c[32], d[32];
    int sa = derive(0x3F, 0, a), sb = derive(0x3F, 0, b), sc = derive(0x3F, 1, c), sd = derive(0x1F, 0, d);
    printf("key_status=%d,%d,%d,%d equal=%d vmpl_differs=%d select_differs=%d\n", sa, sb, sc, sd,
           memcmp(a, b, 32) == 0, memcmp(a, c, 32) != 0, memcmp(a, d, 32) != 0);
    save(dir, "key.bin", a, 32);
    printf("bad_select_status=%d\n", derive(1ULL << 40, 0, d));

    // Bad requests.
    io = (struct snp_guest_request_ioctl){ .msg_version = 0, .req_data = (uint64_t)&report_req,
                                           .resp_data = (uint64_t)&report_resp, .exitinfo2 = 0x1234 };
    err = call(SNP_GET_REPORT, &io);
    printf("version0_errno=%d exitinfo2=%llx\n", err, (unsigned long long)io.exitinfo2);
    io = (struct snp_guest_request_ioctl){ .msg_version = 1, .req_data = 0x10, .resp_data = (uint64_t)&report_resp };
    err = call(SNP_GET_REPORT, &io);
    printf("badpointer_errno=%d exitinfo2=%llx\n", err, (unsigned long long)io.exitinfo2);
    io = (struct snp_guest_request_ioctl){ .msg_version = 1, .req_data = 0, .resp_data = (uint64_t)&report_resp };
    err = call(SNP_GET_REPORT, &io);
    printf("null_errno=%d\n", err);
    ext_req.certs_len = 100;
    io = (struct snp_guest_request_ioctl){ .msg_version = 1, .req_data = (uint64_t)&ext_req,
                                           .resp_data = (uint64_t)&ext_resp };
    printf("unaligned_errno=%d\n", call(SNP_GET_EXT_REPORT, &io));
    unsigned long unknown[] = { 0xC0185300, 0xC0105300, _IOWR('S', 0x7, struct snp_guest_request_ioctl) };
    for (int i = 0; i < 3; i++) {
        io = (struct snp_guest_request_ioctl){ .msg_version = 1 };
        err = call(unknown[i], &io);
        printf("unknown_%lx_errno=%d exitinfo2=%llx\n", unknown[i], err, (unsigned long long)io.exitinfo2);
    }
    printf("read_errno=%d\n", read(device, d, 1) < 0 ? errno : 0);
    return 0;
}
