"""Pure procurement rules: credit codes, calendar, lifecycle, time limits, money."""
