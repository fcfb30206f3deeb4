#ifndef FISH_CURSES_H
#define FISH_CURSES_H

// The one place FishOps touches ncurses. Wide-character ncurses (ncursesw) is used throughout;
// A_* attributes and getmaxyx are macros, which Swift cannot import, so they are wrapped here.
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <ncursesw/curses.h>
#include <wchar.h>

static inline unsigned int fish_attr_bold(void) { return A_BOLD; }
static inline unsigned int fish_attr_dim(void) { return A_DIM; }
static inline unsigned int fish_attr_underline(void) { return A_UNDERLINE; }
static inline unsigned int fish_attr_reverse(void) { return A_REVERSE; }

static inline int fish_rows(void) { int rows, columns; getmaxyx(stdscr, rows, columns); (void)columns; return rows; }
static inline int fish_columns(void) { int rows, columns; getmaxyx(stdscr, rows, columns); (void)rows; return columns; }

static inline int fish_key_resize(void) { return KEY_RESIZE; }
static inline int fish_key_up(void) { return KEY_UP; }
static inline int fish_key_down(void) { return KEY_DOWN; }
static inline int fish_key_left(void) { return KEY_LEFT; }
static inline int fish_key_right(void) { return KEY_RIGHT; }
static inline int fish_key_home(void) { return KEY_HOME; }
static inline int fish_key_end(void) { return KEY_END; }
static inline int fish_key_page_up(void) { return KEY_PPAGE; }
static inline int fish_key_page_down(void) { return KEY_NPAGE; }
static inline int fish_key_backspace(void) { return KEY_BACKSPACE; }
static inline int fish_key_delete(void) { return KEY_DC; }
static inline int fish_key_enter(void) { return KEY_ENTER; }
static inline int fish_key_back_tab(void) { return KEY_BTAB; }
static inline int fish_key_code_yes(void) { return KEY_CODE_YES; }

/// Starts curses on the terminal: raw keys, no echo, hidden cursor, 25 ms escape delay,
/// colours when the terminal has them. Returns the number of colours (0 without colour).
int fish_curses_start(void);

/// Restores the terminal.
void fish_curses_stop(void);

/// Reads one key, waiting at most `timeout_ms`; returns 0 on timeout, else 1 and sets `key` and
/// whether it is a function key (`KEY_*`) rather than a character.
int fish_curses_read(int timeout_ms, unsigned int *key, int *is_function_key);

/// The colour pair for a foreground and background (-1 is the terminal's default), allocated on
/// first use; 0 when no pair is left.
int fish_curses_pair(int foreground, int background);

/// Writes `count` wide characters at (`row`, `column`) with attributes and colour pair.
void fish_curses_put(int row, int column, const wchar_t *text, int count, unsigned int attributes, int pair);

/// Blanks the whole screen buffer (after a resize); frames otherwise only overwrite changed cells.
void fish_curses_erase(void);

/// Sends the frame's changes to the terminal (wnoutrefresh + doupdate).
void fish_curses_flush(void);

#endif
