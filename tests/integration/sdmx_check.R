# Reads SDMX-ML 2.1 messages written by lienthong with the R package rsdmx (Debian
# r-cran-rsdmx), the way a statistician's script does, and prints what it understood, one
# tab-separated line per item, for tests/integration/test_sdmx.py to assert on.
#
# usage: Rscript sdmx_check.R GENERIC_DATA.xml CODELIST.xml
# output:
#   ROWS <n>                                     rows of the data frame of the data message
#   OBS <INDICATOR> <REF_AREA> <TIME> <VALUE> <UNIT_MEASURE> <OBS_STATUS> <SOURCE_AGENCY>
#   CODELIST <id> <agencyID> <version>
#   CODES <n>
#   CODE <id> <name>
suppressPackageStartupMessages(library(rsdmx))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) {
  cat("usage: Rscript sdmx_check.R GENERIC_DATA.xml CODELIST.xml\n", file = stderr())
  quit(status = 2)
}

field <- function(df, i, name) {
  if (!(name %in% colnames(df))) return("")
  v <- df[i, name]
  if (is.na(v)) "NA" else as.character(v)
}

data <- suppressWarnings(readSDMX(args[1], isURL = FALSE))
if (!is(data, "SDMXGenericData")) stop("not read as SDMX generic data: ", class(data))
df <- suppressWarnings(as.data.frame(data))
cat("ROWS", nrow(df), sep = "\t")
cat("\n")
for (i in seq_len(nrow(df))) {
  value <- if (is.na(df[i, "obsValue"])) "NA" else format(df[i, "obsValue"], digits = 15)
  cat("OBS", field(df, i, "INDICATOR"), field(df, i, "REF_AREA"), field(df, i, "obsTime"),
      value, field(df, i, "UNIT_MEASURE"), field(df, i, "OBS_STATUS"),
      field(df, i, "SOURCE_AGENCY"), sep = "\t")
  cat("\n")
}

cls <- readSDMX(args[2], isURL = FALSE)
if (!is(cls, "SDMXCodelists")) stop("not read as SDMX code lists: ", class(cls))
for (cl in slot(cls, "codelists")) {
  cat("CODELIST", slot(cl, "id"), slot(cl, "agencyID"), slot(cl, "version"), sep = "\t")
  cat("\n")
}
codes <- as.data.frame(cls)
cat("CODES", nrow(codes), sep = "\t")
cat("\n")
name_col <- grep("^name", colnames(codes), value = TRUE)[1]
for (i in seq_len(nrow(codes))) {
  cat("CODE", as.character(codes[i, "id"]), as.character(codes[i, name_col]), sep = "\t")
  cat("\n")
}
