/* mapguard.c — SIGBUS turned into a return value for guarded reads of a mapping
 * (see mapguard.h).
 *
 * A SIGBUS is synchronous: it arrives on the thread that touched the page, so that
 * thread's chain of guards says whether the fault is a guarded read.  The handler
 * jumps back to the guard's sigsetjmp; SA_NODEFER keeps SIGBUS unblocked in the
 * handler, so that jumping out with sigsetjmp(env, 0), which costs no system call,
 * leaves the signal mask as it was.
 */
#include "kpic/mapguard.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

/* A region of code that reads a mapping: the handler jumps back to ENV when a fault
 * lies in [LO, HI). */
typedef struct map_guard {
    sigjmp_buf env;
    const unsigned char *lo, *hi;
    struct map_guard *outer;
} map_guard;

/* initial-exec: the handler must not make a TLS access that may allocate */
static __thread map_guard *tl_guard __attribute__((tls_model("initial-exec")));

static struct sigaction sigbus_before; /* the handler that was there, for other faults */

/* A fault no guard covers goes to the handler there was before (or kills the process
 * as it would have: the default action, once the faulting access runs again). */
static void on_sigbus(int sig, siginfo_t *info, void *context)
{
    const unsigned char *at = info != NULL ? info->si_addr : NULL;
    for (map_guard *g = tl_guard; g != NULL; g = g->outer) {
        if (at >= g->lo && at < g->hi) {
            tl_guard = g->outer;
            siglongjmp(g->env, 1);
        }
    }
    if ((sigbus_before.sa_flags & SA_SIGINFO) && sigbus_before.sa_sigaction != NULL) {
        sigbus_before.sa_sigaction(sig, info, context);
        return;
    }
    if (sigbus_before.sa_handler != SIG_DFL && sigbus_before.sa_handler != SIG_IGN) {
        sigbus_before.sa_handler(sig);
        return;
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &dfl, NULL);
}

/* Installed when SIGBUS's handler is not on_sigbus: at the first call, and again after
 * other code replaced it (a test harness does for each test), keeping the handler it
 * finds for the faults no guard covers. */
bool mapg_ready(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    struct sigaction now;
    bool ready = sigaction(SIGBUS, NULL, &now) == 0;
    if (ready && !((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_sigbus)) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        ready = sigaction(SIGBUS, &sa, &sigbus_before) == 0;
    }
    pthread_mutex_unlock(&lock);
    return ready;
}

/* Nothing here is modified between sigsetjmp and the jump, so no local is clobbered. */
bool mapg_run(const void *lo, const void *hi, void (*fn)(void *), void *arg)
{
    map_guard g;
    g.lo = lo;
    g.hi = hi;
    g.outer = tl_guard;
    if (sigsetjmp(g.env, 0) != 0) return false; /* the handler has popped g */
    tl_guard = &g;
    fn(arg);
    tl_guard = g.outer;
    return true;
}

typedef struct copy_job {
    void *dst;
    const void *src;
    size_t len;
} copy_job;

static void copy_bytes(void *arg)
{
    copy_job *job = arg;
    memcpy(job->dst, job->src, job->len);
}

bool mapg_copy(void *dst, const void *src, size_t len, const void *lo, const void *hi)
{
    copy_job job = { dst, src, len };
    return mapg_run(lo, hi, copy_bytes, &job);
}
