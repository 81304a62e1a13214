/* fuzz_csv.c — libFuzzer target `csv`: the CSV reader (base/csv.h) and the
 * network CSV importer (build/import_network.h).
 *
 * Input: a network CSV file, any bytes. It is read twice by the CSV reader
 * alone (',' with UTF-8 checking, as the importers read; ';' without, as
 * the FINESS stock file is read after its Latin-1 conversion), then
 * imported as a `--network` file with import_network() and
 * import_network_links() into a fresh database (import_fixture.h): header
 * by name, site_id, role, public, FINESS number, positions (lat/lon, x/y/srs
 * through PROJ, FINESS), '|'-joined ORPHAcode lists, coordinator and
 * cooperation links, RFC 4180 quoting. Checks: the reader ends (no more
 * records than lines), each record starts on a line of the file in
 * increasing order, its fields are valid UTF-8 when checked; the importer
 * never fails on bad rows, every loaded site lies in WGS84, and rows ==
 * loaded + rejected, each rejection
 * naming a line of the file (CONTRACT). Seeds (tests/fuzz/csv/): network
 * files in the CONTRACT format, quoted fields with separators, doubled
 * quotes and line breaks, CRLF, a BOM, projected positions, bad rows. */
#include "import_fixture.h"

#include "base/csv.h"
#include "base/text.h"
#include "build/import_network.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const uint8_t *data, size_t size, char separator, int check_utf8, long lines)
{
    CsvReader reader;
    if (csv_open_memory(&reader, (const char *)data, size, separator) != 0)
        abort();
    reader.check_utf8 = check_utf8;
    long records = 0, previous_line = 0;
    for (;;) {
        CsvStatus status = csv_next(&reader);
        if (status == CSV_END)
            break;
        import_fixture_check(++records <= lines, "csv: more records than lines");
        import_fixture_check(reader.record_line > previous_line && reader.record_line <= lines,
                             "csv: a record line out of order or past the file");
        previous_line = reader.record_line;
        if (status == CSV_MALFORMED) {
            import_fixture_check(reader.error != NULL, "csv: malformed without a reason");
            continue;
        }
        import_fixture_check(reader.field_count >= 1, "csv: a record without fields");
        for (size_t i = 0; i < reader.field_count; i++)
            import_fixture_check(!check_utf8 ||
                                     utf8_is_valid(reader.fields[i], strlen(reader.fields[i])),
                                 "csv: a checked field that is not UTF-8");
    }
    csv_close(&reader);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long lines = import_fixture_lines(data, size);
    read_all(data, size, ',', 1, lines);
    read_all(data, size, ';', 0, lines);
    ImportFixture *fixture = import_fixture_get();
    const char *path = import_fixture_begin(data, size);
    /* Encoding and separator detected, as for a --network file by default. */
    static const ImportFormat detect = {TEXT_ENCODING_AUTO, 0};
    int status = import_network(&fixture->context, path, "fuzz-network.csv", &detect);
    /* Only a file without a usable header (empty, malformed, a column
     * twice, no site_id or role) is refused as a whole. */
    import_fixture_check(status == 0 || strstr(fixture->context.error, "header"),
                         "import_network failed on a file it should reject row by row");
    if (status == 0)
        import_fixture_check(import_network_links(&fixture->context) == 0,
                             "import_network_links failed");
    import_fixture_check(
        import_fixture_count("SELECT count(*) FROM sites WHERE NOT (lat BETWEEN -90 "
                             "AND 90 AND lon BETWEEN -180 AND 180)") == 0,
        "a site loaded outside WGS84");
    import_fixture_end(lines);
    return 0;
}
