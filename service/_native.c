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

static int is_digit(Py_UCS4 c) { return c >= '0' && c <= '9'; }
static int is_hex_letter(Py_UCS4 c) { return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int is_hex(Py_UCS4 c) { return is_digit(c) || is_hex_letter(c); }
static int is_word(Py_UCS4 c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int is_space(Py_UCS4 c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

/* Length of the hex word starting at i (after an optional "0x"), or 0 when there is none. */
static Py_ssize_t hex_word(int kind, const void *data, Py_ssize_t n, Py_ssize_t i, Py_ssize_t *prefix) {
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

/* ascii_line_units: the estimator's price (service/tokens.py, in 1/48 token) of ASCII lines rendered as
 * "N| line\n", summed over the '\n'-separated lines of the argument, without N's digits. Per line: letter
 * runs 48 per 9 letters, digit runs 48 per 3 digits, symbol runs max(48, 16 per symbol), runs of 2+ blanks
 * (space/tab) 48; other whitespace separates runs for free; plus '|' (48), the newline (24) and 48 when
 * the line starts with exactly one blank (the space after '|' makes it a run of two). */
enum { C_LETTER, C_DIGIT, C_SYMBOL, C_BLANK, C_OTHER_SPACE, C_NEWLINE };

static int ascii_class(Py_UCS4 c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return C_LETTER;
    if (c >= '0' && c <= '9') return C_DIGIT;
    if (c == ' ' || c == '\t') return C_BLANK;
    if (c == '\n') return C_NEWLINE;
    if ((c >= 11 && c <= 13) || (c >= 28 && c <= 31)) return C_OTHER_SPACE; /* str.isspace() in ASCII */
    return C_SYMBOL;
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
        int cls = ascii_class(data[i]);
        Py_ssize_t j = i + 1;
        while (j < n && ascii_class(data[j]) == cls) j++;
        units += run_units(cls, j - i);
        if (line_start && cls == C_BLANK && j - i == 1) units += 48;
        line_start = 0;
        i = j;
    }
    return PyLong_FromLongLong(units);
}

static PyMethodDef methods[] = {
    {"message_key", message_key, METH_O, "The cache key of a log message (see service.logs.shapekey)."},
    {"ascii_line_units", ascii_line_units, METH_O, "Price of ASCII lines as numbered lines (service.tokens)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
