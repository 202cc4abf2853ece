/*
 * The conformance plugin contract (see CONTRACT.md at the root), in C on the raw Extism kernel
 * ABI: no PDK, no libc. Built for wasm by `cargo xtask build-plugins`, from this directory:
 *
 *   clang-19 --target=wasm32-unknown-unknown -mcpu=mvp -nostdlib -ffreestanding -Oz \
 *     -Wall -Wextra -Werror -Wl,--no-entry -Wl,--strip-all -Wl,-z,stack-size=4096 \
 *     -o OUT conformance.c
 *
 * Extism memory is the kernel's, not this module's: every byte of input, output, keys, values
 * and error messages lives in kernel blocks and moves through kernel calls, 8 bytes at a time,
 * as the PDKs move it. This module keeps nothing in its own memory but a few constants, spin's
 * counter and a stack of a few dozen bytes, so it needs no allocator of its own.
 *
 * The kernel's ownership rules, as kernel/src/lib.rs in extism/extism states and implements
 * them (runtime/src/pdk.rs for config, vars and logs), are above each import. The host resets the
 * kernel before every export call (all blocks are reclaimed, input, output and error cleared) and
 * then sets the call's input.
 */

typedef unsigned long long u64;
typedef unsigned char u8;

#define KERNEL(name) __attribute__((import_module("extism:host/env"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

/* The length of the call's input in bytes; 0 for an empty input. */
KERNEL("input_length") u64 extism_input_length(void);

/* 8 bytes (little-endian) or 1 byte of the input at `offset`, counted from the input's start.
 * The input is a kernel block the host set before the call and the kernel owns: it is readable
 * for the whole call and must never be freed (freeing it sets the input length to 0). The
 * kernel is built with bounds checks: reads past the input's end give 0. */
KERNEL("input_load_u64") u64 extism_input_load_u64(u64 offset);
KERNEL("input_load_u8") u8 extism_input_load_u8(u64 offset);

/* A new block of `n` bytes; returns its offset. The block belongs to the caller until it frees
 * it or hands it to output_set or error_set; one never freed is reclaimed at the next call's
 * reset. Returns 0 for n == 0 (an empty block is offset 0) and when memory cannot grow. */
KERNEL("alloc") u64 extism_alloc(u64 n);

/* Marks the block at `offset` free for reuse (the kernel reuses freed blocks only when it would
 * otherwise grow memory). Offset 0, and an offset that is not a live block's start, are
 * ignored. */
KERNEL("free") void extism_free(u64 offset);

/* The length of the block starting at `offset`. 0 for offset 0, for a freed block, and for any
 * offset that is not a block's start. It walks the blocks from the first, so it costs more the
 * more blocks the call has allocated. */
KERNEL("length") u64 extism_length(u64 offset);

/* Read 8 bytes (little-endian) or 1 byte of kernel memory at `offset`; the caller must own, or
 * have been handed, the block it reads. Outside kernel memory they read 0. */
KERNEL("load_u64") u64 extism_load_u64(u64 offset);
KERNEL("load_u8") u8 extism_load_u8(u64 offset);

/* Write 8 bytes (little-endian) or 1 byte of kernel memory at `offset`, into a block the caller
 * owns. Outside kernel memory they write nothing. */
KERNEL("store_u64") void extism_store_u64(u64 offset, u64 value);
KERNEL("store_u8") void extism_store_u8(u64 offset, u8 value);

/* Makes `length` bytes at `offset` the call's output. The kernel owns the block from then on:
 * the caller must not free it. A range outside the kernel's blocks, (0, 0) among them, is
 * ignored, which leaves the output empty as the call's reset left it. */
KERNEL("output_set") void extism_output_set(u64 offset, u64 length);

/* Makes the block at `offset` the call's error message, the host reading length(offset) bytes
 * of it. The kernel owns the block from then on: the caller must not free it. Offset 0 clears
 * the error. */
KERNEL("error_set") void extism_error_set(u64 offset);

/* The runtime's half of the kernel ABI: host functions the SDK provides under the kernel's module
 * name (runtime/src/pdk.rs in extism/extism), not part of kernel/src/lib.rs. Each takes over the
 * blocks passed to it: the Rust runtime frees them (var_set only when it succeeds), so the caller
 * must not free them again. */

/* The manifest's config value for the key in the block at `key`, as a new block the caller owns;
 * 0 when the key is missing and when its value is empty (the runtime allocates no empty block). */
KERNEL("config_get") u64 extism_config_get(u64 key);

/* The instance's var named by the block at `key`, as a new block the caller owns; 0 when there is
 * none. The Node.js SDK's kernel hands back the var's own block instead of a copy, so freeing it
 * would destroy the var: like the PDKs, this module never frees it. */
KERNEL("var_get") u64 extism_var_get(u64 key);

/* Sets the var named by the block at `key` to the bytes of the block at `value`; value 0 removes
 * it. Fails the call when the vars would pass the host's size limit. */
KERNEL("var_set") void extism_var_set(u64 key, u64 value);

/* Logs the text in the block at `message` at one level; the host drops a line below its own
 * level. The Rust runtime fails the call when it would log a line whose offset is not a block's
 * start. */
KERNEL("log_trace") void extism_log_trace(u64 message);
KERNEL("log_debug") void extism_log_debug(u64 message);
KERNEL("log_info") void extism_log_info(u64 message);
KERNEL("log_warn") void extism_log_warn(u64 message);
KERNEL("log_error") void extism_log_error(u64 message);

/* The host's key-value lookup (CONTRACT.md). Takes the offset of a key block, 0 for the empty
 * key; the key block stays the plugin's, the host never frees it. Returns the offset of a new
 * block holding the value, 0 for the empty value; the plugin owns that block and frees it once
 * read. */
__attribute__((import_module("env"), import_name("hostMemoryGet"))) u64 host_memory_get(u64 key);

/* A new block of `n` bytes, 0 when n is 0. The kernel's allocator fails only when memory
 * cannot grow; the plugin cannot go on then, so it aborts. */
static u64 block(u64 n) {
    u64 offset = extism_alloc(n);
    if (n != 0 && offset == 0)
        __builtin_trap();
    return offset;
}

/* Writes `n` bytes of this module's memory into kernel memory at `to`. The 8-byte word is put
 * together byte by byte, which compiles to one load without breaking C's aliasing rules. */
static void store_bytes(u64 to, const u8 *from, u64 n) {
    u64 i = 0;
    for (; i + 8 <= n; i += 8) {
        u64 word = 0;
        for (int b = 7; b >= 0; b--)
            word = word << 8 | from[i + b];
        extism_store_u64(to + i, word);
    }
    for (; i < n; i++)
        extism_store_u8(to + i, from[i]);
}

/* Copies `n` bytes of kernel memory from `from` to `to`. */
static void copy_block(u64 to, u64 from, u64 n) {
    u64 i = 0;
    for (; i + 8 <= n; i += 8)
        extism_store_u64(to + i, extism_load_u64(from + i));
    for (; i < n; i++)
        extism_store_u8(to + i, extism_load_u8(from + i));
}

/* Copies the whole input to kernel memory at `to`. */
static void copy_input(u64 to, u64 n) {
    u64 i = 0;
    for (; i + 8 <= n; i += 8)
        extism_store_u64(to + i, extism_input_load_u64(i));
    for (; i < n; i++)
        extism_store_u8(to + i, extism_input_load_u8(i));
}

/* A new block holding a copy of the input: 0 for an empty input, as the PDKs pass an empty key. */
static u64 input_block(void) {
    u64 n = extism_input_length();
    u64 offset = block(n);
    copy_input(offset, n);
    return offset;
}

/* Looks `key` (a block this plugin owns) up through the host and frees the key after the call,
 * as the PDKs do (the host never frees it). The value block is the caller's to free. */
static u64 get(u64 key) {
    u64 value = host_memory_get(key);
    extism_free(key);
    return value;
}

/* A new block holding `n` bytes of this module's memory. */
static u64 text_block(const u8 *text, u64 n) {
    u64 offset = block(n);
    store_bytes(offset, text, n);
    return offset;
}

/* Looks up a key given as text in this module's memory. */
static u64 get_text(const u8 *key, u64 n) { return get(text_block(key, n)); }

/* Text constants without their NUL. */
#define TEXT(s) (const u8 *)(s), sizeof(s) - 1

static const char GREETING[] = "👋 Hello ";
static const char HELLO[] = "hello";
static const char MESSAGE[] = "message";
static const char HELLO_LABEL[] = "\nkey: hello, value: ";
static const char MESSAGE_LABEL[] = "\nkey: message, value: ";

/* The seed's say_hello: a greeting, then the hello and message values from the host. */
EXPORT("say_hello") int say_hello(void) {
    u64 input = extism_input_length();
    u64 hello = get_text(TEXT(HELLO));
    u64 hello_length = extism_length(hello);
    u64 message = get_text(TEXT(MESSAGE));
    u64 message_length = extism_length(message);

    u64 length = sizeof GREETING - 1 + input + sizeof HELLO_LABEL - 1 + hello_length +
                 sizeof MESSAGE_LABEL - 1 + message_length;
    u64 out = block(length);
    u64 at = out;
    store_bytes(at, TEXT(GREETING));
    at += sizeof GREETING - 1;
    copy_input(at, input);
    at += input;
    store_bytes(at, TEXT(HELLO_LABEL));
    at += sizeof HELLO_LABEL - 1;
    copy_block(at, hello, hello_length);
    at += hello_length;
    store_bytes(at, TEXT(MESSAGE_LABEL));
    at += sizeof MESSAGE_LABEL - 1;
    copy_block(at, message, message_length);

    extism_free(hello);
    extism_free(message);
    extism_output_set(out, length);
    return 0;
}

/* lookup: the value of the key given as input. The value block becomes the output as it is:
 * output_set takes it over, so there is nothing to copy or free. */
EXPORT("lookup") int lookup(void) {
    u64 value = get(input_block());
    extism_output_set(value, extism_length(value));
    return 0;
}

/* How many times count_calls calls the host in one export call. */
#define MANY_CALLS 10000

/* Writes `n` in decimal into the end of `digits`; returns where the digits start. */
static int decimal(u8 digits[20], u64 n) {
    int start = 20;
    do {
        digits[--start] = (u8)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    return start;
}

static const char CALLS[] = " calls, ";
static const char BYTES[] = " bytes";

/* count_calls: looks the input key up MANY_CALLS times, each time with a new key block as the
 * PDKs make one, and reports the bytes received. */
EXPORT("count_calls") int count_calls(void) {
    u64 bytes = 0;
    for (int i = 0; i < MANY_CALLS; i++) {
        u64 value = get(input_block());
        bytes += extism_length(value);
        extism_free(value);
    }

    u8 calls_digits[20], bytes_digits[20];
    int calls_start = decimal(calls_digits, MANY_CALLS);
    int bytes_start = decimal(bytes_digits, bytes);
    u64 length =
        (u64)(20 - calls_start) + sizeof CALLS - 1 + (u64)(20 - bytes_start) + sizeof BYTES - 1;
    u64 out = block(length);
    u64 at = out;
    store_bytes(at, calls_digits + calls_start, 20 - calls_start);
    at += 20 - calls_start;
    store_bytes(at, TEXT(CALLS));
    at += sizeof CALLS - 1;
    store_bytes(at, bytes_digits + bytes_start, 20 - bytes_start);
    at += 20 - bytes_start;
    store_bytes(at, TEXT(BYTES));
    extism_output_set(out, length);
    return 0;
}

/* echo: the input, byte for byte. */
EXPORT("echo") int echo(void) {
    extism_output_set(input_block(), extism_input_length());
    return 0;
}

/* noop: reads no input, writes no output, returns 0: the fixed cost of a call. */
EXPORT("noop") int noop(void) { return 0; }

/* fail: reports the input as the call's error, with return code 1. The bytes go as they are (C
 * has no text type to decode them into). An empty message is no message: no error_set at all. */
EXPORT("fail") int fail(void) {
    if (extism_input_length() != 0)
        extism_error_set(input_block());
    return 1;
}

/* trap: C has no panic to carry the input as a message; the call aborts with `unreachable`. */
EXPORT("trap") int trap(void) { __builtin_trap(); }

/* The counter spin bumps: volatile, so the optimiser cannot drop the loop as doing nothing. */
static volatile u64 spins;

/* spin: loops until the host stops the call; no input, output or kernel call. */
EXPORT("spin") int spin(void) {
    for (;;)
        spins++;
}

/* Sets the output to `n` bytes of this module's memory, and returns the success code. */
static int output_text(const u8 *text, u64 n) {
    extism_output_set(text_block(text, n), n);
    return 0;
}

static const char VALUE[] = "value: ";
static const char MISSING[] = "missing";

/* The output of config_get and var_get for the block `value` from the runtime: "missing" for 0
 * and for an empty block, as the PDKs read both as no value. */
static int output_value(u64 value) {
    u64 n = value == 0 ? 0 : extism_length(value);
    if (n == 0)
        return output_text(TEXT(MISSING));
    u64 out = block(sizeof VALUE - 1 + n);
    store_bytes(out, TEXT(VALUE));
    copy_block(out + sizeof VALUE - 1, value, n);
    extism_output_set(out, sizeof VALUE - 1 + n);
    return 0;
}

/* config_get: the config value whose key is the input. */
EXPORT("config_get") int config_get(void) { return output_value(extism_config_get(input_block())); }

/* var_get: the var whose name is the input. */
EXPORT("var_get") int var_get(void) { return output_value(extism_var_get(input_block())); }

/* Sets the output to `label`, `n` in decimal and `suffix`, together under 64 bytes. */
static int output_number(const u8 *label, u64 label_n, u64 n, const u8 *suffix, u64 suffix_n) {
    u8 text[64], digits[20];
    int start = decimal(digits, n);
    u64 at = 0;
    for (u64 i = 0; i < label_n; i++)
        text[at++] = label[i];
    for (int i = start; i < 20; i++)
        text[at++] = digits[i];
    for (u64 i = 0; i < suffix_n; i++)
        text[at++] = suffix[i];
    return output_text(text, at);
}

static const char COUNT[] = "count";
static const char COUNT_LABEL[] = "count: ";

/* var_count: adds one to the decimal number in the var `count` (no var is 0). */
EXPORT("var_count") int var_count(void) {
    u64 old = extism_var_get(text_block(TEXT(COUNT)));
    u64 n = 0, length = old == 0 ? 0 : extism_length(old);
    for (u64 i = 0; i < length; i++)
        n = n * 10 + (u64)(extism_load_u8(old + i) - '0');
    n++;

    u8 digits[20];
    int start = decimal(digits, n);
    /* The value's block before the key's, the order of extism-pdk's var::set. */
    u64 value = text_block(digits + start, (u64)(20 - start));
    extism_var_set(text_block(TEXT(COUNT)), value);
    return output_number(TEXT(COUNT_LABEL), n, 0, 0);
}

static const char REMOVED[] = "removed";

/* var_remove: removes the var `count`, existing or not. */
EXPORT("var_remove") int var_remove(void) {
    extism_var_set(text_block(TEXT(COUNT)), 0);
    return output_text(TEXT(REMOVED));
}

static const char DATA[] = "data";
static const char STORED[] = "stored ";

/* var_store: stores the input as the var `data` (an empty input is block 0, which removes it)
 * and reports the length read back. The value's block comes first, as in var_count. */
EXPORT("var_store") int var_store(void) {
    u64 value = input_block();
    extism_var_set(text_block(TEXT(DATA)), value);
    u64 stored = extism_var_get(text_block(TEXT(DATA)));
    return output_number(TEXT(STORED), stored == 0 ? 0 : extism_length(stored), TEXT(BYTES));
}

/* A new block holding `label` and then the input: one line of log_levels. */
static u64 log_line(const u8 *label, u64 n) {
    u64 input = extism_input_length();
    u64 offset = block(n + input);
    store_bytes(offset, label, n);
    copy_input(offset + n, input);
    return offset;
}

static const char LOGGED[] = "logged";

/* log_levels: one line at each level, lowest first. extism-pdk's log! asks get_log_level first
 * and skips a line below it; this module leaves that to the host, which drops the line itself. */
EXPORT("log_levels") int log_levels(void) {
    extism_log_trace(log_line(TEXT("trace: ")));
    extism_log_debug(log_line(TEXT("debug: ")));
    extism_log_info(log_line(TEXT("info: ")));
    extism_log_warn(log_line(TEXT("warn: ")));
    extism_log_error(log_line(TEXT("error: ")));
    return output_text(TEXT(LOGGED));
}

static const char NOT_I32[] = "input is not a decimal i32";

/* return_code: returns the input, an optional '-' and then decimal digits, as the return code.
 * Any other input is an error, as a PDK's failed parse would be. */
EXPORT("return_code") int return_code(void) {
    u64 n = extism_input_length();
    int negative = n > 0 && extism_input_load_u8(0) == '-';
    u64 i = (u64)negative, value = 0;
    /* The magnitude may reach 2^31 only when negative; stopping past it keeps `value` small. */
    int ok = i < n;
    for (; ok && i < n; i++) {
        u8 c = extism_input_load_u8(i);
        value = value * 10 + (u64)(c - '0');
        ok = c >= '0' && c <= '9' && value <= 2147483648u - (u64)!negative;
    }
    if (!ok) {
        extism_error_set(text_block(TEXT(NOT_I32)));
        return 1;
    }
    return negative ? (int)(0 - value) : (int)value;
}

/* error_then_zero: sets the input as the call's error and returns 0, which the runtime still
 * reads as a failure. An empty message is no message, as in fail. */
EXPORT("error_then_zero") int error_then_zero(void) {
    if (extism_input_length() != 0)
        extism_error_set(input_block());
    return 0;
}
