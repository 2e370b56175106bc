// Linux calls Swift cannot make itself: variadic C functions do not import.
#ifndef TSMFS_CLINUX_SHIM_H
#define TSMFS_CLINUX_SHIM_H

#include <sys/prctl.h>
#include <signal.h>

/// prctl(PR_SET_PDEATHSIG, signal): `signal` is sent to this process when the thread that
/// created it exits. Returns 0, or -1 with errno.
static inline int clinux_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}

#endif
