/*
 * zgrid guest PID 1 after the shell init (packages/zos/guest/init) prepared /newroot.
 * Runs the app as a child chrooted into /newroot, in its working directory, as its user (resolved
 * in the image's /etc/passwd and /etc/group), the program looked up in the app's PATH. Stays PID 1
 * in the initramfs: reaps every zombie, forwards signals to the app. When the app exits it stops
 * what is left (SIGTERM, then SIGKILL), syncs, unmounts /newroot's mounts and reboots, which ends
 * QEMU (-no-reboot). The last console lines say why:
 *   zgrid-init: app exited with status N      zgrid-init: app killed by SIGNAME
 * It also starts the guest agent (zagent.c) as a second child when the host's agent port is open
 * as fd 3 (and starts it again, at most once a second, when it dies). `zinit -x` is the agent's
 * exec helper: it enters the root like the app (chroot, working directory, user, PATH lookup) and
 * execs the command, without any PID 1 duties.
 * Static, no dependencies beyond libc. Usage:
 *   zinit [-w workdir] [-u user] [-s stopsignal] -- argv...
 *   zinit -x [-w workdir] [-u user] -- argv...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef ROOT
#define ROOT "/newroot"
#endif
#define MAX_GROUPS 64

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t w = write(2, "zgrid-init: ", 12);
  w = write(2, buf, (size_t)n);
  (void)w;
}

static int all_digits(const char *s) {
  if (!*s) return 0;
  for (; *s; s++) if (*s < '0' || *s > '9') return 0;
  return 1;
}

/* One line of /etc/passwd or /etc/group split on ':' (at most `max` fields). */
static int split(char *line, char **f, int max) {
  int n = 0;
  f[n++] = line;
  for (char *p = line; *p && n < max; p++) if (*p == ':') { *p = 0; f[n++] = p + 1; }
  char *nl = strchr(f[n - 1], '\n');
  if (nl) *nl = 0;
  return n;
}

struct who { uid_t uid; gid_t gid; char name[64]; char home[PATH_MAX]; int found; };

/* The passwd entry whose name (or uid) is `user`; reads the file relative to the current root. */
static void lookup_user(const char *user, struct who *w) {
  FILE *f = fopen("/etc/passwd", "r");
  char line[1024];
  int byuid = all_digits(user);
  while (f && fgets(line, sizeof line, f)) {
    char *fl[7];
    if (split(line, fl, 7) < 7) continue;
    if (byuid ? strtoul(fl[2], NULL, 10) == strtoul(user, NULL, 10) : strcmp(fl[0], user) == 0) {
      w->uid = (uid_t)strtoul(fl[2], NULL, 10);
      w->gid = (gid_t)strtoul(fl[3], NULL, 10);
      snprintf(w->name, sizeof w->name, "%s", fl[0]);
      snprintf(w->home, sizeof w->home, "%s", fl[5]);
      w->found = 1;
      break;
    }
  }
  if (f) fclose(f);
}

/* Group id of a group name or number; -1 when the name is unknown. */
static long lookup_group(const char *group) {
  if (all_digits(group)) return (long)strtoul(group, NULL, 10);
  FILE *f = fopen("/etc/group", "r");
  char line[4096];
  long gid = -1;
  while (f && fgets(line, sizeof line, f)) {
    char *fl[4];
    if (split(line, fl, 4) >= 3 && strcmp(fl[0], group) == 0) { gid = (long)strtoul(fl[2], NULL, 10); break; }
  }
  if (f) fclose(f);
  return gid;
}

/* Supplementary groups naming `name` as a member (Docker does the same). */
static int member_groups(const char *name, gid_t *out, int max) {
  FILE *f = fopen("/etc/group", "r");
  char line[4096];
  int n = 0;
  while (f && n < max && fgets(line, sizeof line, f)) {
    char *fl[4];
    if (split(line, fl, 4) < 4) continue;
    for (char *m = strtok(fl[3], ","); m; m = strtok(NULL, ",")) {
      if (strcmp(m, name) == 0) { out[n++] = (gid_t)strtoul(fl[2], NULL, 10); break; }
    }
  }
  if (f) fclose(f);
  return n;
}

/* Becomes `spec` (name|uid[:group|gid]); exits 126 with a FATAL line when it cannot. */
static void become(const char *spec) {
  char user[256], *group = NULL;
  snprintf(user, sizeof user, "%s", spec);
  char *colon = strchr(user, ':');
  if (colon) { *colon = 0; group = colon + 1; }
  struct who w = { 0 };
  lookup_user(user, &w);
  if (!w.found && !all_digits(user)) { say("FATAL: user %s not found in the image's /etc/passwd", user); _exit(126); }
  if (!w.found) { w.uid = (uid_t)strtoul(user, NULL, 10); w.gid = 0; snprintf(w.home, sizeof w.home, "/"); }
  gid_t gid = w.gid;
  if (group) {
    long g = lookup_group(group);
    if (g < 0) { say("FATAL: group %s not found in the image's /etc/group", group); _exit(126); }
    gid = (gid_t)g;
  }
  gid_t groups[MAX_GROUPS];
  int ng = 0;
  groups[ng++] = gid;
  if (w.found) {
    gid_t more[MAX_GROUPS];
    int nm = member_groups(w.name, more, MAX_GROUPS - 1);
    for (int k = 0; k < nm; k++) if (more[k] != gid) groups[ng++] = more[k];
  }
  if (setgroups((size_t)ng, groups) != 0 || setgid(gid) != 0 || setuid(w.uid) != 0) {
    say("FATAL: cannot switch to user %s: %s", spec, strerror(errno));
    _exit(126);
  }
  if (!getenv("ZG_HOME_SET")) setenv("HOME", w.home[0] ? w.home : "/", 1);
}

/* `prog` looked up as execvp would (PATH of the app's env), into `out`; 0 when not found. */
static int find_program(const char *prog, char *out, size_t len) {
  if (strchr(prog, '/')) { snprintf(out, len, "%s", prog); return access(out, F_OK) == 0; }
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char copy[8192];
  snprintf(copy, sizeof copy, "%s", path);
  for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    struct stat st;
    snprintf(out, len, "%s/%s", *d ? d : ".", prog);
    if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return 1;
  }
  return 0;
}

/* mkdir -p (Docker creates a missing WorkingDir). */
static void make_dirs(const char *dir) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s", dir);
  for (char *s = p + 1; *s; s++) if (*s == '/') { *s = 0; mkdir(p, 0755); *s = '/'; }
  mkdir(p, 0755);
}

static void run_app(char **argv, const char *workdir, const char *user, int quiet) {
  if (chroot(ROOT) != 0 || chdir("/") != 0) { say("FATAL: cannot enter the root: %s", strerror(errno)); _exit(126); }
  if (workdir && *workdir) make_dirs(workdir);
  if (user && *user) become(user);
  else if (!getenv("ZG_HOME_SET")) setenv("HOME", "/root", 1);
  unsetenv("ZG_HOME_SET");
  const char *dir = workdir && *workdir ? workdir : "/";
  if (chdir(dir) != 0) { say("FATAL: working directory %s: %s", dir, strerror(errno)); _exit(126); }
  char prog[PATH_MAX];
  if (!find_program(argv[0], prog, sizeof prog)) {
    say("FATAL: entrypoint %s not found (PATH=%s, working directory %s)", argv[0], getenv("PATH") ? getenv("PATH") : "", dir);
    _exit(127);
  }
  char line[1024] = "";
  /* the program as found (a bare name resolved in PATH), then its arguments */
  for (int i = 0; argv[i] && strlen(line) < 900; i++) { strncat(line, i ? " " : "", 2); strncat(line, i ? argv[i] : prog, 900 - strlen(line)); }
  if (!quiet) say("exec %s (in %s)", line, dir);
  execv(prog, argv);
  int e = errno;
  say("FATAL: cannot run %s: %s", prog, strerror(e));
  _exit(e == ENOENT ? 127 : 126);
}

static void reap_until(pid_t app, int *status, int *app_done, int timeout_ms) {
  struct timespec step = { 0, 50 * 1000 * 1000 };
  for (int waited = 0; timeout_ms < 0 || waited <= timeout_ms; waited += 50) {
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) if (p == app) { *status = st; *app_done = 1; }
    if (p < 0 && errno == ECHILD) return;
    if (timeout_ms < 0 && *app_done) return;
    nanosleep(&step, NULL);
  }
}

/* Unmounts everything under /newroot, deepest first, from /proc/mounts. */
static void unmount_all(void) {
  for (int pass = 0; pass < 4; pass++) {
    FILE *f = fopen("/proc/self/mounts", "r");
    if (!f) f = fopen(ROOT "/proc/self/mounts", "r");
    if (!f) return;
    char line[4096], points[128][512];
    int n = 0;
    while (n < 128 && fgets(line, sizeof line, f)) {
      char dev[512], mp[512];
      if (sscanf(line, "%511s %511s", dev, mp) == 2 && strncmp(mp, ROOT, strlen(ROOT)) == 0) snprintf(points[n++], 512, "%s", mp);
    }
    fclose(f);
    if (n == 0) return;
    for (int i = n - 1; i >= 0; i--) {
      if (umount2(points[i], 0) != 0) umount2(points[i], MNT_DETACH);
    }
  }
}

/* The guest agent as a child of PID 1 (fd 3 is the host's agent port); -1 when there is no port. */
static pid_t start_agent(pid_t app, const sigset_t *mask) {
  if (fcntl(3, F_GETFD) < 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, mask, NULL);
    char arg[16];
    snprintf(arg, sizeof arg, "%d", (int)app);
    execl("/bin/zagent", "zagent", arg, (char *)NULL);
    _exit(127);
  }
  return pid;
}

int main(int argc, char **argv) {
  const char *workdir = NULL, *user = NULL;
  int stopsig = SIGTERM, exec_mode = 0;
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) { i++; break; }
    if (strcmp(argv[i], "-x") == 0) { exec_mode = 1; continue; }
    if (i + 1 >= argc) break;
    if (strcmp(argv[i], "-w") == 0) workdir = argv[++i];
    else if (strcmp(argv[i], "-u") == 0) user = argv[++i];
    else if (strcmp(argv[i], "-s") == 0) stopsig = atoi(argv[++i]);
  }
  if (exec_mode) {
    if (i >= argc) { say("FATAL: no command"); return 2; }
    run_app(argv + i, workdir, user, 1);
  }
  if (i >= argc) { say("FATAL: no entrypoint"); sync(); reboot(RB_AUTOBOOT); return 1; }
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t app = fork();
  if (app == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    setsid();
    close(3);
    run_app(argv + i, workdir, user, 0);
  }
  if (app < 0) { say("FATAL: fork: %s", strerror(errno)); sync(); reboot(RB_AUTOBOOT); return 1; }
  pid_t agent = start_agent(app, &old);
  time_t agent_started = time(NULL);
  int status = 0, done = 0;
  struct timespec tick = { 0, 200 * 1000 * 1000 };
  while (!done) {
    siginfo_t si;
    int sig = sigtimedwait(&all, &si, &tick);
    if (sig > 0 && sig != SIGCHLD) {
      /* SIGTERM from outside (none today) stops the app with its stop signal; others pass through */
      kill(app, sig == SIGTERM ? stopsig : sig);
    }
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
      if (p == app) { status = st; done = 1; }
      if (p == agent) agent = 0;
    }
    /* a dead agent is started again, at most once a second */
    if (agent == 0 && !done && time(NULL) != agent_started) { agent = start_agent(app, &old); agent_started = time(NULL); }
  }
  if (WIFEXITED(status)) say("app exited with status %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status)) say("app killed by SIG%s", sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
#ifdef ZINIT_TEST /* host test build: not PID 1, so no teardown of the machine */
  return 0;
#endif
  /* what the app left running: asked to stop, then killed */
  kill(-1, SIGTERM);
  reap_until(app, &status, &done, 2000);
  kill(-1, SIGKILL);
  reap_until(app, &status, &done, 1000);
  sync();
  unmount_all();
  if (umount2("/upper", 0) != 0) umount2("/upper", MNT_DETACH);
  sync();
  say("poweroff");
  reboot(RB_AUTOBOOT);
  return 0;
}
