## R's ptukey on a grid, for tests/problem_bank/test_tukey.py.
##
## Run from the repository root:
##   Rscript scripts/golden/make_ptukey.R
## Made with R 4.2.2. Values are written with 17 significant digits so the Python port
## can be compared to rounding; both tails, because the upper tail is computed as 1 - lower.

q <- c(0.05, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10, 12, 15, 20)
grid <- expand.grid(q = q, nmeans = c(2:6, 10, 20), df = c(2, 5, 10, 20, 50, 100, 146,
                                                           500, 1000, 6000, 30000, Inf))
grid$lower <- with(grid, ptukey(q, nmeans, df))
grid$upper <- with(grid, ptukey(q, nmeans, df, lower.tail = FALSE))
fmt <- function(x) ifelse(is.finite(x), sprintf("%.17g", x), "Inf")
out <- data.frame(q = fmt(grid$q), nmeans = grid$nmeans, df = fmt(grid$df),
                  lower = fmt(grid$lower), upper = fmt(grid$upper))
write.csv(out, "tests/problem_bank/golden/ptukey.csv", row.names = FALSE, quote = FALSE)
cat("done\n")
