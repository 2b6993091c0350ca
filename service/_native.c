/* The two per-line hot spots of log ingest that pure Python cannot make cheap.
 *
 * message_key: the cache key of a log message under which lines mine alike (see service/logs/shapekey.py).
 *
 * One pass over the message, copying it except for two rewrites:
 *   - a run of two or more digits becomes "00" (a single digit stays one);
 *   - a hex word (a run of [0-9a-fA-F-] that starts with a hex character after a non-word character,
 *     ends with one, is at least 8 long, holds at least 2 digits and 1 hex letter, is followed by a
 *     non-word character and by no '=', '(', ':' or "..." in the rest of its token; "0x" may precede it)
 *     becomes its first character and a NUL.
 * Masking sees these only as "a token with digits", so lines with equal keys get equal templates.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Loops take the string kind as an argument and are inlined into a branch per kind, so the common
 * 1-byte case compiles to plain byte reads. */
#define INLINE static inline __attribute__((always_inline))

INLINE int is_digit(Py_UCS4 c) { return c >= '0' && c <= '9'; }
INLINE int is_hex_letter(Py_UCS4 c) { return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
INLINE int is_hex(Py_UCS4 c) { return is_digit(c) || is_hex_letter(c); }
INLINE int is_word(Py_UCS4 c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
INLINE int is_space(Py_UCS4 c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

/* Length of the hex word starting at i (after an optional "0x"), or 0 when there is none. */
INLINE Py_ssize_t hex_word(int kind, const void *data, Py_ssize_t n, Py_ssize_t i, Py_ssize_t *prefix) {
    Py_ssize_t start = i, j, end, digits = 0, letters = 0;
    *prefix = 0;
    if (i > 0 && is_word(PyUnicode_READ(kind, data, i - 1))) return 0;
    if (i + 2 < n && PyUnicode_READ(kind, data, i) == '0') {
        Py_UCS4 x = PyUnicode_READ(kind, data, i + 1);
        if ((x == 'x' || x == 'X') && is_hex(PyUnicode_READ(kind, data, i + 2))) {
            *prefix = 2;
            start = i + 2;
        }
    }
    if (start >= n || !is_hex(PyUnicode_READ(kind, data, start))) return 0;
    for (j = start; j < n; j++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, j);
        if (is_digit(c)) digits++;
        else if (is_hex_letter(c)) letters++;
        else if (c != '-') break;
    }
    end = j;
    if (end - start < 8 || digits < 2 || letters < 1) return 0;
    if (PyUnicode_READ(kind, data, end - 1) == '-') return 0;
    if (end < n && is_word(PyUnicode_READ(kind, data, end))) return 0;
    for (j = end; j < n; j++) { /* the rest of the token: no key, call, flag or dot leader */
        Py_UCS4 c = PyUnicode_READ(kind, data, j);
        if (is_space(c)) break;
        if (c == '=' || c == '(' || c == ':') return 0;
        if (c == '.' && j + 2 < n && PyUnicode_READ(kind, data, j + 1) == '.' &&
            PyUnicode_READ(kind, data, j + 2) == '.')
            return 0;
    }
    return end - i;
}

static PyObject *message_key(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "message_key() needs a str");
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0) return NULL;
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), i = 0, o = 0;
    Py_UCS4 *out = PyMem_Malloc(sizeof(Py_UCS4) * (n + 1));
    if (out == NULL) return PyErr_NoMemory();
    while (i < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (is_hex(c)) {
            Py_ssize_t prefix, len = hex_word(kind, data, n, i, &prefix);
            if (len > 0) {
                if (prefix) {
                    out[o++] = '0';
                    out[o++] = PyUnicode_READ(kind, data, i + 1);
                }
                Py_UCS4 first = PyUnicode_READ(kind, data, i + prefix);
                out[o++] = is_digit(first) ? '0' : first;
                out[o++] = 0;
                i += len;
                continue;
            }
        }
        if (is_digit(c)) {
            Py_ssize_t j = i + 1;
            while (j < n && is_digit(PyUnicode_READ(kind, data, j))) j++;
            out[o++] = '0';
            if (j - i > 1) out[o++] = '0';
            i = j;
            continue;
        }
        out[o++] = c;
        i++;
    }
    PyObject *result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, o);
    PyMem_Free(out);
    return result;
}

/* shape_keys: the line shapes of service.logs.member for a block of lines joined by '\n': every ASCII
 * digit as '0' and, inside hex words (as in message_key), every character but the dashes as '0' except a
 * leading letter, which becomes 'a' or 'A'. Lengths and positions are kept, so a shape's timestamp spans
 * hold for every line of that shape. */
INLINE void fill_shape_keys(int kind, const void *data, Py_ssize_t n, int out_kind, void *out) {
    Py_ssize_t i = 0;
    while (i < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (is_hex(c)) {
            Py_ssize_t prefix, len = hex_word(kind, data, n, i, &prefix);
            if (len > 0) {
                for (Py_ssize_t j = i; j < i + len; j++) {
                    Py_UCS4 w = PyUnicode_READ(kind, data, j);
                    if (is_digit(w) || (j > i + prefix && w != '-')) w = '0';
                    else if (j == i + prefix) w = (w >= 'a' && w <= 'f') ? 'a' : 'A';
                    PyUnicode_WRITE(out_kind, out, j, w);
                }
                i += len;
                continue;
            }
        }
        PyUnicode_WRITE(out_kind, out, i, is_digit(c) ? '0' : c);
        i++;
    }
}

static PyObject *shape_keys(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "shape_keys() needs a str");
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0) return NULL;
    int kind = PyUnicode_KIND(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    PyObject *result = PyUnicode_New(n, PyUnicode_MAX_CHAR_VALUE(arg));
    if (result == NULL) return NULL;
    if (kind == PyUnicode_1BYTE_KIND && PyUnicode_KIND(result) == PyUnicode_1BYTE_KIND)
        fill_shape_keys(PyUnicode_1BYTE_KIND, PyUnicode_DATA(arg), n, PyUnicode_1BYTE_KIND, PyUnicode_DATA(result));
    else
        fill_shape_keys(kind, PyUnicode_DATA(arg), n, PyUnicode_KIND(result), PyUnicode_DATA(result));
    return result;
}

/* tally: fold one mined block into per-template totals kept in arrays indexed by raw template id (see
 * MemberMiner._tally): events, lines, first/last event line, last line, first/last event time (NaN: none),
 * events per (template, level). Returns (first, last) event time of the block (NaN: none). */
static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, int writable) {
    if (PyObject_GetBuffer(obj, view, (writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) | PyBUF_FORMAT) < 0) return 0;
    if (view->itemsize != itemsize) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, "an array or buffer of the wrong item size");
        return 0;
    }
    return 1;
}

static PyObject *tally(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 13) {
        PyErr_SetString(PyExc_TypeError, "tally() takes 13 arguments");
        return NULL;
    }
    long long first_no = PyLong_AsLongLong(args[4]);
    if (first_no == -1 && PyErr_Occurred()) return NULL;
    /* tpl (i), lvl (B), ts (d), starts (B); events, lines, first_line, last_start, last_line (q),
     * first_ts, last_ts (d), levels (q, 8 per template) */
    static const Py_ssize_t sizes[13] = {4, 1, 8, 1, 0, 8, 8, 8, 8, 8, 8, 8, 8};
    Py_buffer b[13];
    int got = 0;
    PyObject *result = NULL;
    for (int k = 0; k < 13; k++) {
        if (k == 4) continue;
        if (!get_buffer(args[k], &b[k], sizes[k], k > 4)) goto done;
        got |= 1 << k;
    }
    Py_ssize_t n = b[0].len / 4, cap = b[5].len / 8;
    if (b[1].len < n || b[2].len / 8 < n || b[3].len < n || b[6].len / 8 < cap || b[7].len / 8 < cap ||
        b[8].len / 8 < cap || b[9].len / 8 < cap || b[10].len / 8 < cap || b[11].len / 8 < cap ||
        b[12].len / 8 < cap * 8) {
        PyErr_SetString(PyExc_ValueError, "tally(): arrays of mismatched sizes");
        goto done;
    }
    const int *tpl = b[0].buf;
    const unsigned char *lvl = b[1].buf, *starts = b[3].buf;
    const double *ts = b[2].buf;
    long long *events = b[5].buf, *lines = b[6].buf, *first_line = b[7].buf, *last_start = b[8].buf;
    long long *last_line = b[9].buf, *levels = b[12].buf;
    double *first_ts = b[10].buf, *last_ts = b[11].buf;
    double block_first = Py_NAN, block_last = Py_NAN;
    for (Py_ssize_t i = 0; i < n; i++) {
        int t = tpl[i];
        if (t < 0 || t >= cap || lvl[i] >= 8) {
            PyErr_SetString(PyExc_IndexError, "tally(): template id beyond the arrays");
            goto done;
        }
        long long no = first_no + i;
        lines[t]++;
        last_line[t] = no;
        if (!starts[i]) continue;
        events[t]++;
        levels[t * 8 + lvl[i]]++;
        if (first_line[t] == 0) first_line[t] = no;
        last_start[t] = no;
        double x = ts[i];
        if (x == x) {
            if (first_ts[t] != first_ts[t]) first_ts[t] = x;
            last_ts[t] = x;
            if (block_first != block_first) block_first = x;
            block_last = x;
        }
    }
    result = Py_BuildValue("(dd)", block_first, block_last);
done:
    for (int k = 0; k < 13; k++)
        if (got & (1 << k)) PyBuffer_Release(&b[k]);
    return result;
}

/* ascii_line_units: the estimator's price (service/tokens.py, in 1/48 token) of ASCII lines rendered as
 * "N| line\n", summed over the '\n'-separated lines of the argument, without N's digits. Per line: letter
 * runs 48 per 9 letters, digit runs 48 per 3 digits, symbol runs max(48, 16 per symbol), runs of 2+ blanks
 * (space/tab) 48; other whitespace separates runs for free; plus '|' (48), the newline (24) and 48 when
 * the line starts with exactly one blank (the space after '|' makes it a run of two). */
enum { C_LETTER, C_DIGIT, C_SYMBOL, C_BLANK, C_OTHER_SPACE, C_NEWLINE };

static unsigned char ascii_classes[128];

static void init_ascii_classes(void) {
    for (int c = 0; c < 128; c++) {
        int cls = C_SYMBOL;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) cls = C_LETTER;
        else if (c >= '0' && c <= '9') cls = C_DIGIT;
        else if (c == ' ' || c == '\t') cls = C_BLANK;
        else if (c == '\n') cls = C_NEWLINE;
        else if ((c >= 11 && c <= 13) || (c >= 28 && c <= 31)) cls = C_OTHER_SPACE; /* str.isspace() */
        ascii_classes[c] = (unsigned char)cls;
    }
}

static long long run_units(int cls, Py_ssize_t n) {
    switch (cls) {
    case C_LETTER: return 48LL * ((n + 8) / 9);
    case C_DIGIT: return 48LL * ((n + 2) / 3);
    case C_SYMBOL: return n * 16LL > 48 ? n * 16LL : 48;
    case C_BLANK: return n > 1 ? 48 : 0;
    default: return 0;
    }
}

static PyObject *ascii_line_units(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "ascii_line_units() needs a str");
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0) return NULL;
    if (!PyUnicode_IS_ASCII(arg)) {
        PyErr_SetString(PyExc_ValueError, "ascii_line_units() needs ASCII text");
        return NULL;
    }
    const Py_UCS1 *data = PyUnicode_1BYTE_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), i = 0;
    long long units = 0;
    int line_start = 1;
    while (i <= n) {
        if (i == n || data[i] == '\n') { /* end of a line: '|' and the newline */
            units += 48 + 24;
            line_start = 1;
            i++;
            continue;
        }
        int cls = ascii_classes[data[i]];
        Py_ssize_t j = i + 1;
        while (j < n && ascii_classes[data[j]] == cls) j++;
        units += run_units(cls, j - i);
        if (line_start && cls == C_BLANK && j - i == 1) units += 48;
        line_start = 0;
        i = j;
    }
    return PyLong_FromLongLong(units);
}

/* feed_known: the per-line loop of service.logs.member.MemberMiner.feed for lines whose shape and time
 * memo are already known; it stops at the first line that needs Python (a new shape, a new minute, a
 * second >= 60, a non-ASCII digit, the first event of the file) and returns where, with the open event.
 * Shapes are the tuples built by MemberMiner._shape; the arithmetic is the same as in Python. */
enum { K_UNSTAMPED, K_FRACTION, K_WHOLE, K_ALONE, K_SECONDS };

static int slice_int(PyObject *line, Py_ssize_t a, Py_ssize_t b, long long *out) {
    if (a < 0 || b > PyUnicode_GET_LENGTH(line) || a >= b || b - a > 18) return 0;
    int kind = PyUnicode_KIND(line);
    const void *data = PyUnicode_DATA(line);
    long long v = 0;
    for (Py_ssize_t i = a; i < b; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < '0' || c > '9') return 0;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 1;
}

/* tag + line[a:b] + line[c:d] as a str equal to the one Python builds (NULL with no error: not handled). */
static PyObject *memo_key(PyObject *tag, PyObject *line, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c, Py_ssize_t d) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(line);
    if (a < 0 || b < a || b > n || c < 0 || d < c || d > n || PyUnicode_GET_LENGTH(tag) != 1) return NULL;
    Py_UCS4 t = PyUnicode_READ_CHAR(tag, 0);
    if (PyUnicode_IS_ASCII(line) && t >= 0x100 && t <= 0xFFFF) { /* the usual case: one UCS2 string */
        PyObject *key = PyUnicode_New(1 + (b - a) + (d - c), 0xFFFF);
        if (key == NULL) return NULL;
        Py_UCS2 *out = PyUnicode_2BYTE_DATA(key);
        const Py_UCS1 *in = PyUnicode_1BYTE_DATA(line);
        Py_ssize_t o = 0;
        out[o++] = (Py_UCS2)t;
        for (Py_ssize_t i = a; i < b; i++) out[o++] = in[i];
        for (Py_ssize_t i = c; i < d; i++) out[o++] = in[i];
        return key;
    }
    PyObject *left = PyUnicode_Substring(line, a, b), *right = PyUnicode_Substring(line, c, d), *key = NULL;
    if (left != NULL && right != NULL) {
        PyObject *head = PyUnicode_Concat(tag, left);
        if (head != NULL) {
            key = PyUnicode_Concat(head, right);
            Py_DECREF(head);
        }
    }
    Py_XDECREF(left);
    Py_XDECREF(right);
    return key;
}

static int item_ssize(PyObject *tuple, Py_ssize_t i, Py_ssize_t *out) {
    PyObject *v = PyTuple_GET_ITEM(tuple, i);
    if (!PyLong_CheckExact(v)) return 0;
    *out = PyLong_AsSsize_t(v);
    if (*out == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* A memoised base time as an integer (FRACTION, SECONDS) or a double (WHOLE); 0 when absent/odd. */
static int memo_base(PyObject *stamps, PyObject *key, long long *as_int, double *as_double, int *is_int) {
    PyObject *base = PyDict_GetItemWithError(stamps, key);
    if (base == NULL) {
        PyErr_Clear();
        return 0;
    }
    if (PyLong_CheckExact(base)) {
        int overflow = 0;
        *as_int = PyLong_AsLongLongAndOverflow(base, &overflow);
        if (overflow || (*as_int == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return 0;
        }
        *is_int = 1;
        return 1;
    }
    if (PyFloat_CheckExact(base)) {
        *as_double = PyFloat_AS_DOUBLE(base);
        *is_int = 0;
        return 1;
    }
    return 0;
}

static PyObject *feed_known(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 12) {
        PyErr_SetString(PyExc_TypeError, "feed_known() takes 12 arguments");
        return NULL;
    }
    PyObject *lines = args[0], *keys = args[1], *shapes = args[3], *stamps = args[4];
    if (!PyList_CheckExact(lines) || !PyList_CheckExact(keys) || !PyDict_CheckExact(shapes) ||
        !PyDict_CheckExact(stamps) || PyList_GET_SIZE(lines) != PyList_GET_SIZE(keys)) {
        PyErr_SetString(PyExc_TypeError, "feed_known(): lines, keys, shapes, stamps");
        return NULL;
    }
    Py_ssize_t i = PyLong_AsSsize_t(args[2]);
    long tid = PyLong_AsLong(args[5]), lv = PyLong_AsLong(args[6]);
    double ts = PyFloat_AsDouble(args[7]);
    if (PyErr_Occurred()) return NULL;
    /* outputs: template ids (int), level ids (bytes), times (double), event starts (bytes) */
    static const Py_ssize_t sizes[4] = {sizeof(int), 1, sizeof(double), 1};
    Py_ssize_t n = PyList_GET_SIZE(lines);
    Py_buffer b[4];
    int got = 0;
    PyObject *result = NULL;
    for (int k = 0; k < 4; k++) {
        if (!get_buffer(args[8 + k], &b[k], sizes[k], 1)) goto done;
        got = k + 1;
    }
    if (i < 0 || b[0].len / b[0].itemsize < n || b[1].len < n || b[2].len / b[2].itemsize < n || b[3].len < n) {
        PyErr_SetString(PyExc_ValueError, "feed_known(): a start outside the lines or output buffers too small");
        goto done;
    }
    int *tpl_out = b[0].buf;
    unsigned char *lvl_out = b[1].buf, *evs_out = b[3].buf;
    double *tss_out = b[2].buf;
    for (; i < n; i++) {
        PyObject *line = PyList_GET_ITEM(lines, i), *key = PyList_GET_ITEM(keys, i);
        if (!PyUnicode_CheckExact(line) || !PyUnicode_CheckExact(key)) break;
        PyObject *shape = PyDict_GetItemWithError(shapes, key);
        if (shape == NULL) {
            if (PyErr_Occurred()) goto done;
            break;
        }
        Py_ssize_t kind;
        if (!PyTuple_CheckExact(shape) || PyTuple_GET_SIZE(shape) < 1 || !item_ssize(shape, 0, &kind)) break;
        int start = 1;
        if (kind == K_FRACTION || kind == K_SECONDS) {
            Py_ssize_t size = kind == K_FRACTION ? 12 : 8, v[12];
            if (PyTuple_GET_SIZE(shape) != size) break;
            int ok = 1;
            for (Py_ssize_t j = 1; j < size - 1 && ok; j++) ok = item_ssize(shape, j, &v[j]);
            PyObject *tag = PyTuple_GET_ITEM(shape, size - 1);
            if (!ok || !PyUnicode_CheckExact(tag)) break;
            /* FRACTION: (kind, tid, lvl, a, s0, s1, fs, f6, fx, b, mult, tag); SECONDS: (kind, tid, lvl, a, s0, s1, b, tag) */
            Py_ssize_t a = v[3], s0 = v[4], s1 = v[5];
            Py_ssize_t rest = kind == K_FRACTION ? v[8] : s1, b = kind == K_FRACTION ? v[9] : v[6];
            PyObject *mk = memo_key(tag, line, a, s0, rest, b);
            if (mk == NULL) {
                if (PyErr_Occurred()) goto done;
                break;
            }
            long long base, sec, frac = 0;
            double unused;
            int is_int = 0, found = memo_base(stamps, mk, &base, &unused, &is_int);
            Py_DECREF(mk);
            if (!found || !is_int || !slice_int(line, s0, s1, &sec) || sec >= 60) break;
            if (kind == K_FRACTION) {
                if (!slice_int(line, v[6], v[7], &frac)) break;
                ts = (double)((base + sec) * 1000000LL + frac * (long long)v[10]) / 1e6;
            } else {
                ts = (double)(base + sec);
            }
            tid = (long)v[1];
            lv = (long)v[2];
        } else if (kind == K_WHOLE) {
            Py_ssize_t v[5];
            if (PyTuple_GET_SIZE(shape) != 5 || !item_ssize(shape, 1, &v[1]) || !item_ssize(shape, 2, &v[2]) ||
                !item_ssize(shape, 3, &v[3]) || !item_ssize(shape, 4, &v[4]))
                break;
            if (v[3] < 0 || v[4] < v[3] || v[4] > PyUnicode_GET_LENGTH(line)) break;
            PyObject *mk = PyUnicode_Substring(line, v[3], v[4]);
            if (mk == NULL) goto done;
            long long as_int;
            double as_double;
            int is_int = 0, found = memo_base(stamps, mk, &as_int, &as_double, &is_int);
            Py_DECREF(mk);
            if (!found) break;
            ts = is_int ? (double)as_int : as_double;
            tid = (long)v[1];
            lv = (long)v[2];
        } else if (kind == K_ALONE) {
            Py_ssize_t t, l;
            if (PyTuple_GET_SIZE(shape) != 3 || !item_ssize(shape, 1, &t) || !item_ssize(shape, 2, &l)) break;
            tid = (long)t;
            lv = (long)l;
            ts = Py_NAN;
        } else if (kind == K_UNSTAMPED && tid >= 0) {
            start = 0; /* continues the open event */
        } else {
            break;
        }
        tpl_out[i] = (int)tid;
        lvl_out[i] = (unsigned char)lv;
        tss_out[i] = ts;
        evs_out[i] = (unsigned char)start;
    }
    result = Py_BuildValue("(nlld)", i, tid, lv, ts);
done:
    for (int k = 0; k < got; k++) PyBuffer_Release(&b[k]);
    return result;
}

static PyMethodDef methods[] = {
    {"message_key", message_key, METH_O, "The cache key of a log message (see service.logs.shapekey)."},
    {"shape_keys", shape_keys, METH_O, "Line shapes of a block of lines joined by newlines."},
    {"tally", (PyCFunction)(void (*)(void))tally, METH_FASTCALL, "Fold a mined block into per-template arrays."},
    {"feed_known", (PyCFunction)(void (*)(void))feed_known, METH_FASTCALL, "The block miner's loop over known lines."},
    {"ascii_line_units", ascii_line_units, METH_O, "Price of ASCII lines as numbered lines (service.tokens)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void) {
    init_ascii_classes();
    return PyModule_Create(&module);
}
