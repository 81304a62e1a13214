/* fuzz_finess.c — libFuzzer target `finess`: the official FINESS stock
 * file importer (build/import_finess.h, etalab cs1100507 format).
 *
 * Input: a stock file, any bytes, as `maillage build --finess` reads it:
 * Latin-1 converted to UTF-8, ';'-separated, the "finess;etalab" first
 * line, structureet lines (32 fields: FINESS number, names, address,
 * "01110 HAUTEVILLE LOMPNES" routing line, category) and geolocalisation
 * lines (x, y and a source whose last ','-part is the SRS label:
 * LAMBERT_93 or an overseas UTM zone, reprojected through PROJ). Imported
 * by import_finess_official() into a fresh database (import_fixture.h).
 * Checks: the import never fails but for a missing "finess;etalab" line,
 * every position it stores lies in WGS84, and rows == loaded + rejected,
 * each rejection naming a line of the file (CONTRACT). Seeds
 * (tests/fuzz/finess/): lines of the shipped sample (metropolitan and
 * overseas, quoted names with doubled quotes, Latin-1 accents), repeated
 * and orphan geolocalisation lines, bad SRS labels and coordinates. */
#include "import_fixture.h"

#include "build/import_finess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long lines = import_fixture_lines(data, size);
    ImportFixture *fixture = import_fixture_get();
    const char *path = import_fixture_begin(data, size);
    int status = import_finess_official(&fixture->context, path, "fuzz-finess.csv");
    import_fixture_check(status == 0 || strstr(fixture->context.error, "finess;etalab"),
                         "import_finess_official failed on a file it should reject line by line");
    import_fixture_check(import_fixture_count("SELECT count(*) FROM etablissements WHERE NOT (lat "
                                              "BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180)") ==
                             0,
                         "a position stored outside WGS84");
    import_fixture_end(lines);
    return 0;
}
