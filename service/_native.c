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
#include <stdint.h>
#include <string.h>

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

/* Byte tables for the 1-byte case: digits as '0', and which bytes are digits, hex letters, word chars. */
enum { B_DIGIT = 1, B_HEX_LETTER = 2, B_WORD = 4 };
static unsigned char zero_digit[256], char_bits[256], hex_or_dash[256];

static void init_byte_tables(void) {
    for (int c = 0; c < 256; c++) {
        zero_digit[c] = is_digit(c) ? '0' : (unsigned char)c;
        hex_or_dash[c] = is_hex(c) || c == '-';
        char_bits[c] = (is_digit(c) ? B_DIGIT : 0) | (is_hex_letter(c) ? B_HEX_LETTER : 0) | (is_word(c) ? B_WORD : 0);
    }
}

/* Fold the hex word, if any, of a run of 8+ hex characters and dashes at [start, end) (out already holds
 * its zeroed digits). hex_word is tried where fill_shape_keys would try it: at the "0x" before the run and
 * at each hex character after a non-word character; a hex word found always reaches the run's end. */
static void fold_hex_run(const Py_UCS1 *in, Py_ssize_t n, Py_ssize_t start, Py_ssize_t end, Py_UCS1 *out) {
    Py_ssize_t k = -1, prefix = 0, len = 0;
    if (start >= 2 && in[start - 2] == '0' && (in[start - 1] == 'x' || in[start - 1] == 'X') &&
        (start == 2 || !(char_bits[in[start - 3]] & B_WORD)))
        len = hex_word(PyUnicode_1BYTE_KIND, in, n, k = start - 2, &prefix);
    for (Py_ssize_t j = start; len <= 0 && j + 8 <= end; j++)
        if (in[j] != '-' && (j == 0 || !(char_bits[in[j - 1]] & B_WORD)))
            len = hex_word(PyUnicode_1BYTE_KIND, in, n, k = j, &prefix);
    if (len <= 0) return;
    for (Py_ssize_t j = k; j < k + len; j++) {
        Py_UCS1 w = in[j];
        if ((char_bits[w] & B_DIGIT) || (j > k + prefix && w != '-')) w = '0';
        else if (j == k + prefix) w = (w >= 'a' && w <= 'f') ? 'a' : 'A';
        out[j] = w;
    }
}

/* fill_shape_keys for 1-byte text: one branch-free pass zeroing digits and measuring runs of hex characters
 * and dashes; only a run of 8 or more (what any hex word needs) goes to fold_hex_run. Same output. */
static void fill_shape_1byte(const Py_UCS1 *in, Py_ssize_t n, Py_UCS1 *out) {
    Py_ssize_t run = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS1 c = in[i];
        out[i] = zero_digit[c];
        run = (run + 1) & -(Py_ssize_t)hex_or_dash[c];
        if (run == 8) {
            Py_ssize_t start = i - 7, end = i + 1;
            while (end < n && hex_or_dash[in[end]]) {
                out[end] = zero_digit[in[end]];
                end++;
            }
            fold_hex_run(in, n, start, end, out);
            i = end - 1;
            run = 0;
        }
    }
}

/* A new str holding the shape key of `line` (any kind). */
static PyObject *shape_of(PyObject *line) {
    int kind = PyUnicode_KIND(line);
    Py_ssize_t n = PyUnicode_GET_LENGTH(line);
    PyObject *result = PyUnicode_New(n, PyUnicode_MAX_CHAR_VALUE(line));
    if (result == NULL) return NULL;
    if (kind == PyUnicode_1BYTE_KIND && PyUnicode_KIND(result) == PyUnicode_1BYTE_KIND)
        fill_shape_1byte(PyUnicode_1BYTE_DATA(line), n, PyUnicode_1BYTE_DATA(result));
    else
        fill_shape_keys(kind, PyUnicode_DATA(line), n, PyUnicode_KIND(result), PyUnicode_DATA(result));
    return result;
}

static PyObject *shape_keys(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "shape_keys() needs a str");
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0) return NULL;
    return shape_of(arg);
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

/* Per character of a run, what it adds to the run's price, by class and the position in the run (which
 * cycles or saturates): letters 48 at 0, 9, 18, ...; digits 48 at 0, 3, 6, ...; symbols 48 at 0, then 16
 * from the 4th on (max(48, 16 n)); blanks 48 at the 2nd (runs of 2+); other whitespace nothing. */
static unsigned char run_add[6][9], run_next[6][9];

static void init_run_tables(void) {
    for (int r = 0; r < 9; r++) {
        run_add[C_LETTER][r] = r == 0 ? 48 : 0;
        run_next[C_LETTER][r] = (unsigned char)((r + 1) % 9);
        run_add[C_DIGIT][r] = r == 0 ? 48 : 0;
        run_next[C_DIGIT][r] = (unsigned char)((r + 1) % 3);
        run_add[C_SYMBOL][r] = r == 0 ? 48 : r >= 3 ? 16 : 0;
        run_next[C_SYMBOL][r] = (unsigned char)(r < 3 ? r + 1 : 3);
        run_add[C_BLANK][r] = r == 1 ? 48 : 0;
        run_next[C_BLANK][r] = (unsigned char)(r < 2 ? r + 1 : 2);
    }
}

/* Where the line starting at pos ends: its newline, or len for a last line without one. */
INLINE Py_ssize_t line_end(const Py_UCS1 *data, Py_ssize_t pos, Py_ssize_t len) {
    const Py_UCS1 *nl = memchr(data + pos, '\n', (size_t)(len - pos));
    return nl ? nl - data : len;
}

/* The price of one ASCII line (no newline in it) as "N| line\n", without N's digits: the price of each of
 * its runs (letters 48 per 9, digits 48 per 3,
 * symbols max(48, 16 per symbol), blanks 48 for 2+), a character at a time without a branch per run. */
static long long line_units(const Py_UCS1 *data, Py_ssize_t n) {
    long long units = 48 + 24; /* '|' and the newline */
    if (n > 0 && ascii_classes[data[0]] == C_BLANK && (n == 1 || ascii_classes[data[1]] != C_BLANK))
        units += 48; /* exactly one blank first: with the space after '|' a run of two */
    int prev = -1, r = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int cls = ascii_classes[data[i]];
        r = cls == prev ? r : 0;
        units += run_add[cls][r];
        r = run_next[cls][r];
        prev = cls;
    }
    return units;
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
    for (;;) {
        Py_ssize_t end = line_end(data, i, n);
        units += line_units(data + i, end - i);
        if (end == n) break;
        i = end + 1;
    }
    return PyLong_FromLongLong(units);
}

/* line_table: the index pass of a member's bytes (UTF-8, cut after a newline or at its end): per line
 * the character offset where the next line starts (char_base + characters so far + newlines), the byte
 * offset after its newline, and its ascii_line_units price, or -1 when the line is not ASCII or holds a
 * '<' (the packer defuses those: priced in Python). Returns (lines, characters after the last line). */
static PyObject *line_table(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "line_table() takes 5 arguments");
        return NULL;
    }
    long long chars = PyLong_AsLongLong(args[1]);
    if (chars == -1 && PyErr_Occurred()) return NULL;
    Py_buffer b[4];
    int got = 0;
    PyObject *result = NULL;
    static const Py_ssize_t sizes[4] = {1, 8, 8, 8};
    for (int k = 0; k < 4; k++) {
        if (!get_buffer(args[k == 0 ? 0 : k + 1], &b[k], sizes[k], k > 0)) goto done;
        got = k + 1;
    }
    const Py_UCS1 *data = b[0].buf;
    Py_ssize_t len = b[0].len, cap = b[1].len / 8, pos = 0, k = 0;
    if (b[2].len / 8 < cap || b[3].len / 8 < cap) {
        PyErr_SetString(PyExc_ValueError, "line_table(): arrays of mismatched sizes");
        goto done;
    }
    long long *starts = b[1].buf, *ends = b[2].buf, *prices = b[3].buf;
    while (pos < len) {
        if (k >= cap) {
            PyErr_SetString(PyExc_ValueError, "line_table(): more lines than the arrays hold");
            goto done;
        }
        Py_ssize_t end = line_end(data, pos, len), continuation = 0;
        int ended = end < len; /* by a newline */
        unsigned char any = 0, angle = 0;
        for (Py_ssize_t j = pos; j < end; j++) {
            Py_UCS1 c = data[j];
            any |= c;
            angle |= c == '<';
            continuation += (c & 0xC0) == 0x80;
        }
        chars += (end - pos) - continuation + ended;
        starts[k] = chars;
        ends[k] = end + ended;
        prices[k] = (any & 0x80) || angle ? -1 : line_units(data + pos, end - pos);
        k++;
        pos = end + ended;
    }
    result = Py_BuildValue("(nL)", k, chars);
done:
    for (int j = 0; j < got; j++) PyBuffer_Release(&b[j]);
    return result;
}

/* feed_known: the per-line loop of service.logs.member.MemberMiner.feed for lines whose shape and time
 * memo are already known; it stops at the first line that needs Python (a new shape, a new minute, a
 * second >= 60, a non-ASCII digit, the first event of the file) and returns where, with the open event.
 * Shapes are the tuples built by MemberMiner._shape; the arithmetic is the same as in Python. */
enum { K_UNSTAMPED, K_FRACTION, K_WHOLE, K_ALONE, K_SECONDS };

/* A line's characters: a str's, or ASCII bytes of a member file (kind 1). */
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} View;

static int slice_int(const View *v, Py_ssize_t a, Py_ssize_t b, long long *out) {
    if (a < 0 || b > v->n || a >= b || b - a > 18) return 0;
    long long x = 0;
    for (Py_ssize_t i = a; i < b; i++) {
        Py_UCS4 c = PyUnicode_READ(v->kind, v->data, i);
        if (c < '0' || c > '9') return 0;
        x = x * 10 + (c - '0');
    }
    *out = x;
    return 1;
}

/* tag + line[a:b] + line[c:d] as a str equal to the one Python builds (NULL with no error: not handled). */
static PyObject *memo_key(Py_UCS4 t, const View *v, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c, Py_ssize_t d) {
    if (a < 0 || b < a || b > v->n || c < 0 || d < c || d > v->n) return NULL;
    Py_UCS4 top = t;
    for (Py_ssize_t i = a; i < b; i++) top = Py_MAX(top, PyUnicode_READ(v->kind, v->data, i));
    for (Py_ssize_t i = c; i < d; i++) top = Py_MAX(top, PyUnicode_READ(v->kind, v->data, i));
    PyObject *key = PyUnicode_New(1 + (b - a) + (d - c), top); /* the exact maximum: a canonical str */
    if (key == NULL) return NULL;
    int kind = PyUnicode_KIND(key);
    void *out = PyUnicode_DATA(key);
    Py_ssize_t o = 0;
    PyUnicode_WRITE(kind, out, o++, t);
    for (Py_ssize_t i = a; i < b; i++) PyUnicode_WRITE(kind, out, o++, PyUnicode_READ(v->kind, v->data, i));
    for (Py_ssize_t i = c; i < d; i++) PyUnicode_WRITE(kind, out, o++, PyUnicode_READ(v->kind, v->data, i));
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

/* A memoised base time: an integer (FRACTION, SECONDS: the minute) or a double (WHOLE). */
typedef struct {
    long long as_int;
    double as_double;
    int is_int;
} Base;

/* The memo's entry for `key`: 1 found, 0 absent or odd. */
static int memo_base(PyObject *stamps, PyObject *key, Base *out) {
    PyObject *base = PyDict_GetItemWithError(stamps, key);
    if (base == NULL) {
        PyErr_Clear();
        return 0;
    }
    if (PyLong_CheckExact(base)) {
        int overflow = 0;
        out->as_int = PyLong_AsLongLongAndOverflow(base, &overflow);
        if (overflow || (out->as_int == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return 0;
        }
        out->is_int = 1;
        return 1;
    }
    if (PyFloat_CheckExact(base)) {
        out->as_double = PyFloat_AS_DOUBLE(base);
        out->is_int = 0;
        return 1;
    }
    return 0;
}

/* A shape tuple of MemberMiner._shape, parsed:
 * FRACTION (kind, tid, lvl, a, s0, s1, fs, f6, fx, b, mult, tag); SECONDS (kind, tid, lvl, a, s0, s1, b, tag);
 * WHOLE (kind, tid, lvl, a, b); ALONE (kind, tid, lvl); UNSTAMPED (kind,). */
typedef struct {
    Py_ssize_t kind, tid, lvl, a, s0, s1, fs, f6, fx, b, mult;
    Py_UCS4 tag;
} Shape;

static int parse_shape(PyObject *shape, Shape *out) {
    if (!PyTuple_CheckExact(shape) || PyTuple_GET_SIZE(shape) < 1 || !item_ssize(shape, 0, &out->kind)) return 0;
    Py_ssize_t size = PyTuple_GET_SIZE(shape), v[12];
    static const Py_ssize_t sizes[5] = {1, 12, 5, 3, 8}; /* by kind */
    if (out->kind < 0 || out->kind > K_SECONDS || size != sizes[out->kind]) return 0;
    int tagged = out->kind == K_FRACTION || out->kind == K_SECONDS;
    for (Py_ssize_t j = 1; j < size - tagged; j++)
        if (!item_ssize(shape, j, &v[j])) return 0;
    if (tagged) {
        PyObject *tag = PyTuple_GET_ITEM(shape, size - 1);
        if (!PyUnicode_CheckExact(tag) || PyUnicode_GET_LENGTH(tag) != 1) return 0;
        out->tag = PyUnicode_READ_CHAR(tag, 0);
    }
    if (out->kind == K_UNSTAMPED) return 1;
    out->tid = v[1];
    out->lvl = v[2];
    if (out->kind == K_FRACTION) {
        out->a = v[3], out->s0 = v[4], out->s1 = v[5], out->fs = v[6], out->f6 = v[7], out->fx = v[8];
        out->b = v[9], out->mult = v[10];
    } else if (out->kind == K_SECONDS) {
        out->a = v[3], out->s0 = v[4], out->s1 = v[5], out->fx = v[5], out->b = v[6];
    } else if (out->kind == K_WHOLE) {
        out->a = v[3], out->b = v[4];
    }
    return 1;
}

/* An open-addressing table from byte strings to parsed shapes or memoised times: the C side of a miner's
 * `_shapes` and `_stamps` dicts (which stay the truth: a miss here looks there). Bounded: cleared when
 * full; a long probe (hash flooding by crafted lines) is a miss, not a slow path. */
#define TABLE_SLOTS (1 << 16)
#define TABLE_LIMIT (TABLE_SLOTS / 2)
#define MAX_PROBE 32
#define KEY_MAX 1024

typedef struct {
    uint64_t hash;
    unsigned char *key; /* NULL: empty */
    Py_ssize_t len;
    union {
        Shape shape; /* in a Cache's shapes */
        Base base;   /* in its stamps */
    };
} Slot;

typedef struct {
    Slot *slots;
    Py_ssize_t used;
} Table;

typedef struct {
    Table shapes, stamps;
    Py_ssize_t shapes_seen; /* size of the Python shape dict at the last call: smaller means cleared */
    uint64_t seed;
} Cache;

static uint64_t hash_bytes(uint64_t seed, const unsigned char *p, Py_ssize_t n) {
    uint64_t h = seed ^ ((uint64_t)n * 0x9E3779B97F4A7C15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, (size_t)n);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 29);
}

static void table_clear(Table *t) {
    if (t->slots == NULL) return;
    for (Py_ssize_t i = 0; i < TABLE_SLOTS; i++) PyMem_Free(t->slots[i].key);
    memset(t->slots, 0, sizeof(Slot) * TABLE_SLOTS);
    t->used = 0;
}

/* The slot holding `key`, or NULL; `*empty` gets the free slot where it would go (NULL: none near). */
static Slot *table_find(Table *t, uint64_t h, const unsigned char *key, Py_ssize_t len, Slot **empty) {
    *empty = NULL;
    if (t->slots == NULL) return NULL;
    for (Py_ssize_t p = 0, i = (Py_ssize_t)(h & (TABLE_SLOTS - 1)); p < MAX_PROBE; p++, i = (i + 1) & (TABLE_SLOTS - 1)) {
        Slot *s = &t->slots[i];
        if (s->key == NULL) {
            *empty = s;
            return NULL;
        }
        if (s->hash == h && s->len == len && memcmp(s->key, key, (size_t)len) == 0) return s;
    }
    return NULL;
}

/* A slot for key in `empty` (from table_find; the table is emptied first when full), or NULL: not kept
 * (no free slot near, or no memory). */
static Slot *table_put(Table *t, Slot *empty, uint64_t h, const unsigned char *key, Py_ssize_t len) {
    if (empty == NULL) return NULL;
    if (t->used >= TABLE_LIMIT) {
        table_clear(t);
        empty = &t->slots[h & (TABLE_SLOTS - 1)];
    }
    unsigned char *copy = PyMem_Malloc((size_t)len + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, key, (size_t)len);
    empty->hash = h;
    empty->key = copy;
    empty->len = len;
    t->used++;
    return empty;
}

static void cache_free(PyObject *capsule) {
    Cache *c = PyCapsule_GetPointer(capsule, "longdoc.MineCache");
    if (c == NULL) return;
    table_clear(&c->shapes);
    table_clear(&c->stamps);
    PyMem_Free(c->shapes.slots);
    PyMem_Free(c->stamps.slots);
    PyMem_Free(c);
}

static PyObject *mine_cache(PyObject *self, PyObject *arg) {
    unsigned long long seed = PyLong_AsUnsignedLongLongMask(arg);
    if (seed == (unsigned long long)-1 && PyErr_Occurred()) return NULL;
    Cache *c = PyMem_Calloc(1, sizeof(Cache));
    if (c == NULL) return PyErr_NoMemory();
    c->shapes.slots = PyMem_Calloc(TABLE_SLOTS, sizeof(Slot));
    c->stamps.slots = PyMem_Calloc(TABLE_SLOTS, sizeof(Slot));
    c->seed = seed;
    PyObject *capsule = c->shapes.slots && c->stamps.slots ? PyCapsule_New(c, "longdoc.MineCache", cache_free) : NULL;
    if (capsule == NULL) {
        PyMem_Free(c->shapes.slots);
        PyMem_Free(c->stamps.slots);
        PyMem_Free(c);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    return capsule;
}

/* The base time of a line of a stamped shape: from the C table, else from the Python memo (then kept in
 * the table). Keys in the table: the tag as 4 bytes (0 for WHOLE) and the line's two pieces, ASCII. */
static int line_base(const View *line, const Shape *sh, PyObject *stamps, Cache *cache, Base *out) {
    Py_ssize_t a = sh->a, s0 = sh->kind == K_WHOLE ? sh->b : sh->s0, rest = sh->kind == K_WHOLE ? sh->b : sh->fx;
    Py_ssize_t b = sh->b;
    if (a < 0 || s0 < a || s0 > line->n || rest < 0 || b < rest || b > line->n) return 0;
    unsigned char key[128];
    Py_ssize_t len = 4 + (s0 - a) + (b - rest);
    Slot *slot = NULL, *empty = NULL;
    uint64_t h = 0;
    int in_table = cache != NULL && line->kind == PyUnicode_1BYTE_KIND && len <= (Py_ssize_t)sizeof key;
    if (in_table) {
        uint32_t tag = sh->kind == K_WHOLE ? 0 : (uint32_t)sh->tag;
        memcpy(key, &tag, 4);
        memcpy(key + 4, (const char *)line->data + a, (size_t)(s0 - a));
        memcpy(key + 4 + (s0 - a), (const char *)line->data + rest, (size_t)(b - rest));
        h = hash_bytes(cache->seed, key, len);
        slot = table_find(&cache->stamps, h, key, len, &empty);
        if (slot != NULL) {
            *out = slot->base;
            return 1;
        }
    }
    PyObject *mk = sh->kind == K_WHOLE
                       ? PyUnicode_FromKindAndData(line->kind, (const char *)line->data + a * line->kind, b - a)
                       : memo_key(sh->tag, line, a, s0, rest, b);
    if (mk == NULL) return PyErr_Occurred() ? -1 : 0;
    int found = memo_base(stamps, mk, out);
    Py_DECREF(mk);
    if (found && in_table && (slot = table_put(&cache->stamps, empty, h, key, len)) != NULL) slot->base = *out;
    return found;
}

/* The open event after one line of a known shape: 1 done (tid, lv, ts and whether the line starts an
 * event updated), 0 when the line needs Python, -1 on an error. The arithmetic is the same as in Python. */
typedef struct {
    long tid, lv;
    double ts;
    int start;
} Event;

static int apply_shape(const View *line, const Shape *sh, PyObject *stamps, Cache *cache, Event *ev) {
    Base base;
    int r;
    switch (sh->kind) {
    case K_FRACTION:
    case K_SECONDS: {
        long long sec, frac = 0;
        if ((r = line_base(line, sh, stamps, cache, &base)) <= 0) return r;
        if (!base.is_int || !slice_int(line, sh->s0, sh->s1, &sec) || sec >= 60) return 0;
        if (sh->kind == K_FRACTION) {
            if (!slice_int(line, sh->fs, sh->f6, &frac)) return 0;
            ev->ts = (double)((base.as_int + sec) * 1000000LL + frac * (long long)sh->mult) / 1e6;
        } else {
            ev->ts = (double)(base.as_int + sec);
        }
        break;
    }
    case K_WHOLE:
        if ((r = line_base(line, sh, stamps, cache, &base)) <= 0) return r;
        ev->ts = base.is_int ? (double)base.as_int : base.as_double;
        break;
    case K_ALONE:
        ev->ts = Py_NAN;
        break;
    default: /* UNSTAMPED: continues the open event, if there is one */
        if (ev->tid < 0) return 0;
        ev->start = 0;
        return 1;
    }
    ev->tid = (long)sh->tid;
    ev->lv = (long)sh->lvl;
    ev->start = 1;
    return 1;
}

static int known_line(const View *line, PyObject *key, PyObject *shapes, PyObject *stamps, Event *ev) {
    PyObject *tuple = PyDict_GetItemWithError(shapes, key);
    if (tuple == NULL) return PyErr_Occurred() ? -1 : 0;
    Shape sh;
    if (!parse_shape(tuple, &sh)) return 0;
    return apply_shape(line, &sh, stamps, NULL, ev);
}

/* The four output buffers of a block (template ids, level ids, times, event starts), at least n long. */
static int get_outputs(PyObject *const *args, Py_buffer *b, int *got, Py_ssize_t n) {
    static const Py_ssize_t sizes[4] = {sizeof(int), 1, sizeof(double), 1};
    for (int k = 0; k < 4; k++) {
        if (!get_buffer(args[k], &b[k], sizes[k], 1)) return 0;
        *got = k + 1;
    }
    if (b[0].len / b[0].itemsize < n || b[1].len < n || b[2].len / b[2].itemsize < n || b[3].len < n) {
        PyErr_SetString(PyExc_ValueError, "output buffers too small");
        return 0;
    }
    return 1;
}

INLINE void put_line(Py_buffer *b, Py_ssize_t i, const Event *ev) {
    ((int *)b[0].buf)[i] = (int)ev->tid;
    ((unsigned char *)b[1].buf)[i] = (unsigned char)ev->lv;
    ((double *)b[2].buf)[i] = ev->ts;
    ((unsigned char *)b[3].buf)[i] = (unsigned char)ev->start;
}

static int read_event(PyObject *const *args, Event *ev) {
    ev->tid = PyLong_AsLong(args[0]);
    ev->lv = PyLong_AsLong(args[1]);
    ev->ts = PyFloat_AsDouble(args[2]);
    return !PyErr_Occurred();
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
    Py_ssize_t i = PyLong_AsSsize_t(args[2]), n = PyList_GET_SIZE(lines);
    Event ev;
    if (PyErr_Occurred() || !read_event(args + 5, &ev)) return NULL;
    Py_buffer b[4];
    int got = 0;
    PyObject *result = NULL;
    if (!get_outputs(args + 8, b, &got, n)) goto done;
    if (i < 0) {
        PyErr_SetString(PyExc_ValueError, "feed_known(): a start outside the lines");
        goto done;
    }
    for (; i < n; i++) {
        PyObject *line = PyList_GET_ITEM(lines, i), *key = PyList_GET_ITEM(keys, i);
        if (!PyUnicode_CheckExact(line) || !PyUnicode_CheckExact(key)) break;
        View view = {PyUnicode_KIND(line), PyUnicode_DATA(line), PyUnicode_GET_LENGTH(line)};
        int r = known_line(&view, key, shapes, stamps, &ev);
        if (r < 0) goto done;
        if (r == 0) break;
        put_line(b, i, &ev);
    }
    result = Py_BuildValue("(nlld)", i, ev.tid, ev.lv, ev.ts);
done:
    for (int k = 0; k < got; k++) PyBuffer_Release(&b[k]);
    return result;
}

/* One ASCII line of a member file through the cache: its shape key is built in a buffer and looked up in
 * the C table, then in the Python dict (then kept in the table). Same results as known_line. */
static int ascii_line(const View *line, Cache *cache, PyObject *shapes, PyObject *stamps, Event *ev) {
    unsigned char key[KEY_MAX];
    Py_ssize_t n = line->n;
    if (n > KEY_MAX) { /* long lines (JSON records) have their shape made and looked up as a str */
        PyObject *k = PyUnicode_New(n, 127);
        if (k == NULL) return -1;
        fill_shape_1byte(line->data, n, PyUnicode_1BYTE_DATA(k));
        int r = known_line(line, k, shapes, stamps, ev);
        Py_DECREF(k);
        return r;
    }
    fill_shape_1byte(line->data, n, key);
    uint64_t h = hash_bytes(cache->seed, key, n);
    Slot *empty, *slot = table_find(&cache->shapes, h, key, n, &empty);
    Shape sh;
    if (slot != NULL) {
        sh = slot->shape;
    } else {
        PyObject *k = PyUnicode_New(n, 127);
        if (k == NULL) return -1;
        memcpy(PyUnicode_1BYTE_DATA(k), key, (size_t)n);
        PyObject *tuple = PyDict_GetItemWithError(shapes, k);
        Py_DECREF(k);
        if (tuple == NULL) return PyErr_Occurred() ? -1 : 0;
        if (!parse_shape(tuple, &sh)) return 0;
        if ((slot = table_put(&cache->shapes, empty, h, key, n)) != NULL) slot->shape = sh;
    }
    return apply_shape(line, &sh, stamps, cache, ev);
}

/* line_count: the lines of a member file's piece, as MemberMiner.feed_bytes counts them: its newlines,
 * plus one for a last line without a newline. */
static PyObject *line_count(PyObject *self, PyObject *arg) {
    if (!PyBytes_CheckExact(arg)) {
        PyErr_SetString(PyExc_TypeError, "line_count() needs bytes");
        return NULL;
    }
    const Py_UCS1 *data = (const Py_UCS1 *)PyBytes_AS_STRING(arg);
    Py_ssize_t len = PyBytes_GET_SIZE(arg), pos = 0, count = 0;
    while (pos < len) {
        pos = line_end(data, pos, len) + 1;
        count++;
    }
    return PyLong_FromSsize_t(count);
}

/* feed_bytes: feed_known over the lines of a member file's bytes (UTF-8, '\n'-separated) from byte
 * offset `pos` and line `i`, with the miner's `mine_cache`: no str per ASCII line. Any other line is
 * decoded and looked up as a str. Returns (pos, i, tid, level, ts) at the first line that needs Python,
 * or after the last line. */
static PyObject *feed_bytes(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 13) {
        PyErr_SetString(PyExc_TypeError, "feed_bytes() takes 13 arguments");
        return NULL;
    }
    PyObject *shapes = args[3], *stamps = args[4];
    if (!PyBytes_CheckExact(args[0]) || !PyDict_CheckExact(shapes) || !PyDict_CheckExact(stamps)) {
        PyErr_SetString(PyExc_TypeError, "feed_bytes(): data, pos, i, shapes, stamps");
        return NULL;
    }
    Cache *cache = PyCapsule_GetPointer(args[5], "longdoc.MineCache");
    if (cache == NULL) return NULL;
    const Py_UCS1 *data = (const Py_UCS1 *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t len = PyBytes_GET_SIZE(args[0]);
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]), i = PyLong_AsSsize_t(args[2]);
    Event ev;
    if (PyErr_Occurred() || !read_event(args + 6, &ev)) return NULL;
    Py_buffer b[4];
    int got = 0;
    PyObject *result = NULL;
    if (!get_outputs(args + 9, b, &got, 0)) goto done;
    Py_ssize_t n = b[1].len;
    if (pos < 0 || pos > len || i < 0 || b[0].len / b[0].itemsize < n || b[2].len / b[2].itemsize < n ||
        b[3].len < n) {
        PyErr_SetString(PyExc_ValueError, "feed_bytes(): a start outside the data or output buffers of different sizes");
        goto done;
    }
    if (PyDict_GET_SIZE(shapes) < cache->shapes_seen) table_clear(&cache->shapes); /* Python cleared its own */
    cache->shapes_seen = PyDict_GET_SIZE(shapes);
    while (i < n && pos < len) {
        Py_ssize_t end = line_end(data, pos, len);
        unsigned char any = 0;
        for (Py_ssize_t j = pos; j < end; j++) any |= data[j];
        View view = {PyUnicode_1BYTE_KIND, data + pos, end - pos};
        int r;
        if (any & 0x80) {
            PyObject *line = PyUnicode_DecodeUTF8((const char *)data + pos, end - pos, "strict");
            if (line == NULL) { /* left to Python, which raises the same error */
                PyErr_Clear();
                break;
            }
            view = (View){PyUnicode_KIND(line), PyUnicode_DATA(line), PyUnicode_GET_LENGTH(line)};
            PyObject *key = shape_of(line);
            r = key == NULL ? -1 : known_line(&view, key, shapes, stamps, &ev);
            Py_XDECREF(key);
            Py_DECREF(line);
        } else {
            r = ascii_line(&view, cache, shapes, stamps, &ev);
        }
        if (r < 0) goto done;
        if (r == 0) break;
        put_line(b, i, &ev);
        i++;
        pos = end < len ? end + 1 : len;
    }
    result = Py_BuildValue("(nnlld)", pos, i, ev.tid, ev.lv, ev.ts);
done:
    for (int k = 0; k < got; k++) PyBuffer_Release(&b[k]);
    return result;
}

static PyMethodDef methods[] = {
    {"message_key", message_key, METH_O, "The cache key of a log message (see service.logs.shapekey)."},
    {"shape_keys", shape_keys, METH_O, "Line shapes of a block of lines joined by newlines."},
    {"tally", (PyCFunction)(void (*)(void))tally, METH_FASTCALL, "Fold a mined block into per-template arrays."},
    {"feed_known", (PyCFunction)(void (*)(void))feed_known, METH_FASTCALL, "The block miner's loop over known lines."},
    {"mine_cache", mine_cache, METH_O, "A miner's C-side shape and time tables (for feed_bytes), seeded."},
    {"line_count", line_count, METH_O, "Lines of a member file's piece (newlines, plus an unended last line)."},
    {"feed_bytes", (PyCFunction)(void (*)(void))feed_bytes, METH_FASTCALL, "feed_known over a member file's bytes."},
    {"line_table", (PyCFunction)(void (*)(void))line_table, METH_FASTCALL, "Line starts and prices of a member's bytes."},
    {"ascii_line_units", ascii_line_units, METH_O, "Price of ASCII lines as numbered lines (service.tokens)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void) {
    init_ascii_classes();
    init_byte_tables();
    init_run_tables();
    return PyModule_Create(&module);
}
