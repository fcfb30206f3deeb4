#include "fish_curses.h"
#include <locale.h>
#include <string.h>

#define FISH_MAX_PAIRS 4096
static int pair_foreground[FISH_MAX_PAIRS];
static int pair_background[FISH_MAX_PAIRS];
static int pairs_used = 1;  // pair 0 is the terminal's default

int fish_curses_start(void) {
    setlocale(LC_ALL, "");
    initscr();
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    pairs_used = 1;
    if (!has_colors()) return 0;
    start_color();
    use_default_colors();
    return COLORS;
}

void fish_curses_stop(void) {
    curs_set(1);
    endwin();
}

int fish_curses_read(int timeout_ms, unsigned int *key, int *is_function_key) {
    wint_t character = 0;
    timeout(timeout_ms);
    int status = get_wch(&character);
    if (status == ERR) return 0;
    *key = (unsigned int)character;
    *is_function_key = status == KEY_CODE_YES;
    return 1;
}

int fish_curses_pair(int foreground, int background) {
    if (foreground < 0 && background < 0) return 0;
    for (int pair = 1; pair < pairs_used; pair++) {
        if (pair_foreground[pair] == foreground && pair_background[pair] == background) return pair;
    }
    if (pairs_used >= FISH_MAX_PAIRS || pairs_used >= COLOR_PAIRS) return 0;
    int pair = pairs_used++;
    init_extended_pair(pair, foreground, background);
    pair_foreground[pair] = foreground;
    pair_background[pair] = background;
    return pair;
}

void fish_curses_put(int row, int column, const wchar_t *text, int count, unsigned int attributes, int pair) {
    attr_set((attr_t)attributes, (short)(pair < 32767 ? pair : 0), &pair);
    mvaddnwstr(row, column, text, count);
}

void fish_curses_erase(void) { erase(); }

void fish_curses_flush(void) {
    wnoutrefresh(stdscr);
    doupdate();
}
