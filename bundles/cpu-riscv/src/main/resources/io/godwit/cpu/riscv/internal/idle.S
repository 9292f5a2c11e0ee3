# idle: every hart waits for an interrupt, forever. RAM above the program stays zero.
start:
    j     park
