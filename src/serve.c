/* serve.c — placeholder for `maillage serve` (being written). */
#include "commands.h"

#include <stdio.h>

int command_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "maillage serve: not implemented yet\n");
    return 1;
}
