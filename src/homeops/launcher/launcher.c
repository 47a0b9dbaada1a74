/* The native `homeops` command: hands `homeops check` (and the pre-commit hook's `hook run`) to the
 * resident homeops process without starting a Python interpreter, and runs every other command line,
 * or any case it is not sure of, in Python as the installed script would.
 *
 * What it sends is what homeops.resident.delegate sends (a length, then a marshal dict of the
 * arguments, folder, environment, umask and the standard streams' encodings, with the caller's
 * standard input, output and error passed as descriptors); what it reads back is the child's pid
 * ("P") and its exit status ("X"). Signals it receives (Ctrl-C) go to the child. The interpreter,
 * the socket's name and the script that Python runs are written into config.h by
 * homeops.launcher.install, for one Python and one homeops installation.
 *
 * Whenever anything is not exactly as a Python caller would see it (a locale Python would decode
 * differently, a byte sequence that is not UTF-8, a closed standard stream, no resident process, a
 * stale one), it runs Python instead: being wrong is never cheaper than being slow. */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h" /* HOMEOPS_PYTHON, HOMEOPS_SCRIPT, HOMEOPS_SOCKET_NAME, HOMEOPS_BUILD */

extern char **environ;

/* The build this binary is, for `homeops.launcher.install` to tell whether it must rebuild. */
__attribute__((used)) static const char build[] = "homeops-launcher-build:" HOMEOPS_BUILD;

/* -- running Python instead ------------------------------------------------------------------- */

static int run_python(int argc, char **argv) {
    char **args = calloc((size_t)argc + 4, sizeof(char *));
    if (args != NULL) {
        args[0] = HOMEOPS_PYTHON;
        args[1] = "-P"; /* not the current folder first on the module path (a repository's yaml.py) */
        args[2] = "-c";
        args[3] = HOMEOPS_SCRIPT;
        for (int i = 1; i < argc; i++) args[3 + i] = argv[i];
        execv(HOMEOPS_PYTHON, args);
    }
    fprintf(stderr, "homeops: error: cannot run %s: %s\n  hint: install homeops again (./dev, or pip install)\n",
            HOMEOPS_PYTHON, strerror(errno));
    return 4; /* ExitCode.MISSING_TOOL: a required program is missing */
}

/* -- the request, as marshal writes it ---------------------------------------------------------- */

typedef struct {
    char *data;
    size_t size, used;
    int failed;
} buffer;

static void put(buffer *b, const void *data, size_t size) {
    if (b->failed) return;
    if (b->used + size > b->size) {
        size_t size2 = (b->size ? b->size * 2 : 4096);
        while (size2 < b->used + size) size2 *= 2;
        char *data2 = realloc(b->data, size2);
        if (data2 == NULL) {
            b->failed = 1;
            return;
        }
        b->data = data2;
        b->size = size2;
    }
    memcpy(b->data + b->used, data, size);
    b->used += size;
}

static void put_int32(buffer *b, uint32_t value) {
    unsigned char bytes[4] = {value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, (value >> 24) & 0xff};
    put(b, bytes, 4);
}

static void put_code(buffer *b, char code) { put(b, &code, 1); }

/* Whether `text` (of `size` bytes) is UTF-8 that Python decodes to the same string: no overlong
 * forms, no surrogates, nothing above U+10FFFF. Python decodes anything else in its own way. */
static int utf8(const unsigned char *text, size_t size) {
    size_t i = 0;
    while (i < size) {
        unsigned char c = text[i];
        size_t more;
        uint32_t point;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            more = 1, point = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2, point = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3, point = c & 0x07;
        } else {
            return 0;
        }
        if (i + more >= size) return 0;
        for (size_t k = 1; k <= more; k++) {
            if ((text[i + k] & 0xc0) != 0x80) return 0;
            point = (point << 6) | (text[i + k] & 0x3f);
        }
        if ((more == 1 && point < 0x80) || (more == 2 && point < 0x800) || (more == 3 && point < 0x10000) ||
            point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff))
            return 0;
        i += more + 1;
    }
    return 1;
}

static int put_text(buffer *b, const char *text, size_t size) {
    if (!utf8((const unsigned char *)text, size) || size > 0x7fffffff) return 0;
    put_code(b, 'u');
    put_int32(b, (uint32_t)size);
    put(b, text, size);
    return 1;
}

static int put_string(buffer *b, const char *text) { return put_text(b, text, strlen(text)); }

/* -- what Python would make of the locale --------------------------------------------------------- */

static int is_set(const char *name) {
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0';
}

/* Python's standard streams' encoding and errors, and the LC_CTYPE it coerces a C locale to (PEP 538,
 * PEP 540); 0 when this locale is one to leave to Python itself. */
static int python_locale(const char **errors, const char **coerced) {
    if (is_set("PYTHONIOENCODING") || is_set("PYTHONUTF8") || is_set("PYTHONCOERCECLOCALE")) return 0;
    const char *name = setlocale(LC_CTYPE, "");
    if (name == NULL) name = setlocale(LC_CTYPE, NULL);
    if (name == NULL) return 0;
    *coerced = NULL;
    if (strcmp(name, "C") == 0 || strcmp(name, "POSIX") == 0) {
        /* UTF-8 mode; and with no LC_ALL, the C.UTF-8 locale for LC_CTYPE, in its environment too */
        if (!is_set("LC_ALL")) {
            if (setlocale(LC_CTYPE, "C.UTF-8") != NULL)
                *coerced = "C.UTF-8";
            else
                return 0; /* another coercion target, or none: Python knows */
        }
        *errors = "surrogateescape";
        return 1;
    }
    const char *codeset = nl_langinfo(CODESET);
    if (codeset == NULL || strcmp(codeset, "UTF-8") != 0) return 0;
    int target = strcmp(name, "C.UTF-8") == 0 || strcmp(name, "C.utf8") == 0 || strcmp(name, "UTF-8") == 0;
    *errors = target ? "surrogateescape" : "strict";
    return 1;
}

static int put_streams(buffer *b, const char *errors) {
    const char *errors_of[3] = {errors, errors, "backslashreplace"};
    put_code(b, '[');
    put_int32(b, 3);
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0) return 0; /* a closed stream: Python has None for it */
        put_code(b, '(');
        put_int32(b, 2);
        put_string(b, "utf-8");
        put_string(b, errors_of[fd]);
    }
    return 1;
}

static int put_environment(buffer *b, const char *coerced) {
    put_code(b, '{');
    for (char **entry = environ; *entry != NULL; entry++) {
        const char *equals = strchr(*entry, '=');
        if (equals == NULL || equals == *entry) continue; /* Python's os.environ skips them too */
        size_t length = (size_t)(equals - *entry);
        int seen = 0; /* the first of two entries of one name is the one os.environ has */
        for (char **before = environ; before < entry && !seen; before++)
            seen = strncmp(*before, *entry, length + 1) == 0;
        if (seen || (coerced != NULL && length == 8 && strncmp(*entry, "LC_CTYPE", 8) == 0)) continue;
        if (!put_text(b, *entry, length) || !put_string(b, equals + 1)) return 0;
    }
    if (coerced != NULL) {
        put_string(b, "LC_CTYPE");
        put_string(b, coerced);
    }
    put_code(b, '0');
    return 1;
}

static int request(buffer *b, int argc, char **argv) {
    const char *errors, *coerced;
    if (!python_locale(&errors, &coerced)) return 0;
    char *cwd = getcwd(NULL, 0);
    if (cwd == NULL) return 0;
    mode_t mask = umask(022);
    umask(mask);
    put(b, "\0\0\0\0\0\0\0\0", 8); /* the length, once known */
    put_code(b, '{');
    put_string(b, "argv");
    put_code(b, '[');
    put_int32(b, (uint32_t)(argc - 1));
    int ok = 1;
    for (int i = 1; i < argc && ok; i++) ok = put_string(b, argv[i]);
    ok = ok && put_string(b, "cwd") && put_string(b, cwd);
    free(cwd);
    ok = ok && put_string(b, "env") && put_environment(b, coerced);
    ok = ok && put_string(b, "umask");
    put_code(b, 'i');
    put_int32(b, (uint32_t)mask);
    ok = ok && put_string(b, "streams") && put_streams(b, errors);
    ok = ok && put_string(b, "handed");
    put_code(b, 'N');
    put_code(b, '0');
    if (!ok || b->failed || b->used - 8 > (1 << 24)) return 0;
    uint64_t size = b->used - 8;
    for (int i = 0; i < 8; i++) b->data[i] = (char)((size >> (8 * i)) & 0xff);
    return 1;
}

/* -- the conversation ------------------------------------------------------------------------- */

static volatile sig_atomic_t child = 0;
static volatile sig_atomic_t pending = 0;
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void forward(int signum) {
    if (child > 0)
        kill((pid_t)child, signum);
    else
        pending = signum; /* before the child is known: kept for it, or for this process */
}

/* The resident process's socket: its connected descriptor, or -1 (none, or not one to trust). */
static int connect_resident(char *path, size_t size) {
    const char *explicit = getenv("HOMEOPS_CACHE_DIR");
    const char *temporary = is_set("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int written;
    if (is_set("HOMEOPS_CACHE_DIR"))
        written = snprintf(path, size, "%s%sserver", explicit, explicit[strlen(explicit) - 1] == '/' ? "" : "/");
    else if (is_set("XDG_RUNTIME_DIR"))
        written = snprintf(path, size, "%s/homeops", getenv("XDG_RUNTIME_DIR"));
    else
        written = snprintf(path, size, "%s/homeops-%u", temporary, (unsigned)getuid());
    if (written < 0 || (size_t)written >= size) return -1;
    struct stat info; /* only a folder of this user's that nobody else may open (resident.socket_path) */
    if (lstat(path, &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != getuid() || (info.st_mode & 077))
        return -1;
    size_t folder_length = (size_t)written;
    written = snprintf(path + folder_length, size - folder_length, "/%s", HOMEOPS_SOCKET_NAME);
    if (written < 0 || (size_t)written >= size - folder_length) return -1;

    struct sockaddr_un address = {.sun_family = AF_UNIX};
    int folder = -1;
    if (strlen(path) < 100) {
        strcpy(address.sun_path, path);
    } else { /* too long for an address: the same file through a descriptor of its folder */
        path[folder_length] = '\0';
        folder = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        path[folder_length] = '/';
        if (folder < 0) return -1;
        snprintf(address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d/%s", folder, HOMEOPS_SOCKET_NAME);
    }
    int conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (conn >= 0 && connect(conn, (struct sockaddr *)&address, sizeof address) != 0) {
        close(conn);
        conn = -1;
    }
    if (folder >= 0) close(folder);
    return conn;
}

static int send_request(int conn, buffer *b) {
    int fds[3] = {0, 1, 2};
    char control[CMSG_SPACE(sizeof fds)];
    memset(control, 0, sizeof control);
    struct iovec part = {.iov_base = b->data, .iov_len = b->used};
    struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(header), fds, sizeof fds);
    ssize_t sent;
    do sent = sendmsg(conn, &message, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent < 0) return 0;
    for (size_t done = (size_t)sent; done < b->used; done += (size_t)sent) {
        do sent = send(conn, b->data + done, b->used - done, MSG_NOSIGNAL);
        while (sent < 0 && errno == EINTR);
        if (sent <= 0) return 0;
    }
    return 1;
}

/* One answer: its letter and number, or 0 when the other side closed first. */
static char receive(int conn, int64_t *number) {
    unsigned char answer[9];
    size_t got = 0;
    while (got < sizeof answer) {
        ssize_t n = recv(conn, answer + got, sizeof answer - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        got += (size_t)n;
    }
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--) value = (value << 8) | answer[1 + i];
    *number = (int64_t)value;
    return (char)answer[0];
}

/* Whether Python would hand this command line to the resident process: `check` or `hook run`, after
 * the global options (cli.main._selected). */
static int delegated(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--debug") == 0) continue;
        if (strcmp(argv[i], "--color") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--color=", 8) == 0) continue;
        if (strcmp(argv[i], "check") == 0) return 1;
        return strcmp(argv[i], "hook") == 0 && i + 1 < argc && strcmp(argv[i + 1], "run") == 0;
    }
    return 0;
}

/* Whether this command line is for Python itself: the switches of resident.enabled, or a module path
 * of its own (another homeops than the one this launcher was built for may be on it). */
static int switched_off(void) {
    if (is_set("PYTHONPATH") || is_set("PYTHONHOME")) return 1;
    const char *server = getenv("HOMEOPS_SERVER"), *no_fork = getenv("HOMEOPS_NO_FORK");
    if (server != NULL && (strcmp(server, "0") == 0 || strcmp(server, "off") == 0 || strcmp(server, "false") == 0 ||
                           strcmp(server, "no") == 0))
        return 1;
    return is_set("CI") || (no_fork != NULL && strcmp(no_fork, "1") == 0);
}

static int debugging(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--debug") == 0) return 1;
    return 0;
}

int main(int argc, char **argv) {
    if (switched_off() || !delegated(argc, argv)) return run_python(argc, argv);
    buffer b = {0};
    if (!request(&b, argc, argv)) return run_python(argc, argv);
    char path[4096];
    int conn = connect_resident(path, sizeof path);
    if (conn < 0) return run_python(argc, argv); /* Python checks, then starts the resident process */

    struct sigaction previous[4], handler = {.sa_handler = forward};
    sigemptyset(&handler.sa_mask);
    for (int i = 0; i < 4; i++) {
        sigaction(forwarded[i], NULL, &previous[i]);
        if (previous[i].sa_handler != SIG_IGN) sigaction(forwarded[i], &handler, NULL); /* ignored stays so */
    }
    int64_t number = 0;
    char answer = send_request(conn, &b) ? receive(conn, &number) : 0;
    free(b.data);
    if (answer != 'P') { /* stale ("S"), gone or failing: Python runs it (and starts a new one after) */
        close(conn);
        for (int i = 0; i < 4; i++) sigaction(forwarded[i], &previous[i], NULL);
        if (pending) raise(pending); /* as if it came now */
        return run_python(argc, argv);
    }
    child = (sig_atomic_t)number;
    if (debugging(argc, argv))
        fprintf(stderr, "homeops: debug: checked by the resident process (pid %lld; %s)\n", (long long)number, path);
    if (pending) kill((pid_t)child, pending);
    answer = receive(conn, &number);
    if (answer != 'X') {
        fputs("homeops: error: the resident homeops process stopped while checking\n", stderr);
        return 1;
    }
    return (int)number;
}
