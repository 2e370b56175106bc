// Linux calls Swift cannot make itself: variadic C functions, and calls glibc declares only
// under _GNU_SOURCE, which the Glibc module is not built with.
#ifndef TSMFS_CLINUX_SHIM_H
#define TSMFS_CLINUX_SHIM_H

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <signal.h>
#include <unistd.h>

/// prctl(PR_SET_PDEATHSIG, signal): `signal` is sent to this process when the thread that
/// created it exits. Returns 0, or -1 with errno.
static inline int clinux_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}

/// process_vm_readv(2): copies `remote` in process `pid` into `local`. Returns the bytes copied,
/// or -1 with errno (ESRCH, EPERM, EFAULT).
static inline long clinux_process_vm_readv(pid_t pid, const struct iovec *local, unsigned long local_count,
                                           const struct iovec *remote, unsigned long remote_count) {
    return syscall(SYS_process_vm_readv, pid, local, local_count, remote, remote_count, 0UL);
}

/// process_vm_writev(2): copies `local` into `remote` in process `pid`. Returns the bytes
/// copied, or -1 with errno.
static inline long clinux_process_vm_writev(pid_t pid, const struct iovec *local, unsigned long local_count,
                                            const struct iovec *remote, unsigned long remote_count) {
    return syscall(SYS_process_vm_writev, pid, local, local_count, remote, remote_count, 0UL);
}

#endif
