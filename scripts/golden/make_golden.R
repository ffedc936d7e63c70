## Fit every case in tests/problem_bank/golden/cases.json with real R and store what R
## prints (<case>.<printer>.txt) and the key numbers (<case>.json).
##
## Run from the repository root, after scripts/golden/make_datasets.py:
##   Rscript scripts/golden/make_golden.R
## Made with R 4.2.2, glmmTMB 1.1.5, emmeans 1.8.4-1, performance 0.10.2 (Debian packages).
## Plain ASCII quotes in the significance legend, as in the lecture's output.
##
## summary(glm): the target is current R's layout (R >= 4.3, as in the lecture), which no
## longer prints the "Deviance Residuals" block (R 4.3.0 NEWS: print.summary.glm gained
## show.residuals = FALSE). Under R 4.2 the fixture <case>.summary_glm.txt is made by R
## 4.2.x with the Deviance Residuals block removed as R >= 4.3 prints; nothing else differs.
## R's printout with the block is kept as <case>.summary_glm_residuals.txt (R 4.2's
## default, R >= 4.3's show.residuals = TRUE), and <case>.json records in "made_with"
## which R made the fixtures and whether the block was removed.

suppressPackageStartupMessages({
  library(jsonlite)
  library(glmmTMB)
  library(emmeans)
  library(performance)
})
options(useFancyQuotes = FALSE, width = 80, digits = 7)

dir <- "tests/problem_bank/golden"
cases <- fromJSON(file.path(dir, "cases.json"), simplifyVector = FALSE)

## What R shows on the console for `expr`: output and messages in the order they appear
## (emmeans' NOTE comes before the table, performance's verdict after it).
console <- function(expr, ...) {
  out <- capture.output(withCallingHandlers(
    print(expr, ...),
    message = function(m) {
      cat(conditionMessage(m))
      invokeRestart("muffleMessage")
    }
  ))
  paste0(paste(out, collapse = "\n"), "\n")
}

r43 <- getRversion() >= "4.3.0"

## R >= 4.3's print(summary(glm)) from R 4.2's: the "Deviance Residuals" block (heading,
## quantiles, blank line) cut out, so the call is followed by one blank line and
## "Coefficients:". Under R >= 4.3, R's own printout is used unchanged.
without_deviance_residuals <- function(text) {
  out <- sub("(?s)\nDeviance Residuals: \n.*?\n(\n(No )?Coefficients)", "\\1", text, perl = TRUE)
  stopifnot(!grepl("Deviance Residuals", out), nchar(out) < nchar(text))
  out
}

made_with <- list(
  R = R.version.string,
  packages = lapply(c(glmmTMB = "glmmTMB", TMB = "TMB", emmeans = "emmeans",
                      performance = "performance"),
                    function(p) as.character(packageVersion(p))))

write_txt <- function(name, printer, text) {
  con <- file(file.path(dir, paste0(name, ".", printer, ".txt")), "wb")
  writeChar(text, con, eos = NULL)
  close(con)
}

coef_table <- function(cm) {
  lapply(setNames(seq_len(nrow(cm)), rownames(cm)), function(i) {
    list(estimate = cm[i, 1], se = cm[i, 2], stat = cm[i, 3], p = cm[i, 4])
  })
}

pairs_table <- function(m, f) {
  p <- as.data.frame(pairs(suppressMessages(emmeans(m, f))))
  stat <- if ("t.ratio" %in% names(p)) p$t.ratio else p$z.ratio
  lapply(seq_len(nrow(p)), function(i) {
    list(label = as.character(p$contrast[i]), estimate = p$estimate[i], se = p$SE[i],
         df = p$df[i], t_ratio = stat[i], p_value = p$p.value[i])
  })
}

for (case in cases) {
  data <- read.csv(file.path(dir, case$csv))
  for (f in unlist(case$factors)) data[[f]] <- factor(data[[f]])
  name <- case$name
  dname <- as.name(case$data_name)
  env <- new.env()
  assign(case$data_name, data, envir = env)
  ref <- list(name = name, made_with = made_with)
  if (case$family == "ols") {
    m <- eval(bquote(lm(.(as.formula(case$formula)), data = .(dname))), env)
    s <- summary(m)
    write_txt(name, "summary_lm", console(s))
    write_txt(name, "anova_lm", console(anova(m)))
    a <- anova(m)
    ref$coefficients <- coef_table(coef(s))
    ref$sigma <- s$sigma
    ref$r_squared <- s$r.squared
    ref$adj_r_squared <- s$adj.r.squared
    ref$fstatistic <- unname(s$fstatistic)
    ref$anova <- lapply(seq_len(nrow(a)), function(i) {
      list(term = trimws(rownames(a)[i]), df = a$Df[i], sum_sq = a[["Sum Sq"]][i],
           mean_sq = a[["Mean Sq"]][i], f_value = a[["F value"]][i], p_value = a[["Pr(>F)"]][i])
    })
    if (!is.null(case$emmeans)) {
      write_txt(name, "emmeans_pairs",
                console(pairs(emmeans(m, as.formula(paste("~", case$emmeans))))))
      ref$pairs <- pairs_table(m, as.formula(paste("~", case$emmeans)))
    }
    nd <- data[c(1, 2, 3), , drop = FALSE]
    ref$predict <- unname(predict(m, nd))
  } else if (case$family == "glm") {
    fam <- switch(case$distribution,
                  binomial = quote(binomial(link = "logit")),
                  poisson = quote(poisson(link = "log")))
    m <- eval(bquote(glm(.(as.formula(case$formula)), family = .(fam), data = .(dname))), env)
    s <- summary(m)
    if (r43) {
      write_txt(name, "summary_glm", console(s))
      write_txt(name, "summary_glm_residuals", console(s, show.residuals = TRUE))
    } else {
      write_txt(name, "summary_glm", without_deviance_residuals(console(s)))
      write_txt(name, "summary_glm_residuals", console(s))
    }
    ref$made_with$summary_glm <- if (r43) "as R prints it" else
      sprintf("made by R %s; the Deviance Residuals block removed as R >= 4.3 prints",
              getRversion())
    ref$coefficients <- coef_table(coef(s))
    ref$deviance <- m$deviance
    ref$null_deviance <- m$null.deviance
    ref$aic <- m$aic
    ref$iter <- m$iter
    ref$nobs <- nobs(m)
    ref$n_deleted <- length(m$na.action)
    nd <- na.omit(data)[1:3, , drop = FALSE]
    ref$predict_link <- unname(predict(m, nd, type = "link"))
    ref$predict_response <- unname(predict(m, nd, type = "response"))
    if (!is.null(case$emmeans)) {
      ## Link scale, asymptotic (df = Inf, z ratios), as emmeans does for a glm.
      write_txt(name, "emmeans_pairs",
                console(pairs(emmeans(m, as.formula(paste("~", case$emmeans))))))
      ref$pairs <- pairs_table(m, as.formula(paste("~", case$emmeans)))
    }
    if (case$distribution == "poisson") {
      od <- check_overdispersion(m)
      write_txt(name, "check_overdispersion", console(od))
      ref$dispersion <- list(chisq = od$chisq_statistic, ratio = od$dispersion_ratio,
                             df = od$residual_df, p_value = od$p_value)
      zi <- check_zeroinflation(m)
      write_txt(name, "check_zeroinflation", console(zi))
      ref$zero_inflation <- list(observed = zi$observed.zeros, predicted = zi$predicted.zeros,
                                 ratio = zi$ratio)
      ref$pred_zero_sum <- sum(dpois(0, fitted(m)))
    }
  } else if (case$family == "mixed") {
    reml <- identical(case$method, "REML")
    m <- if (reml) {
      eval(bquote(glmmTMB(.(as.formula(case$formula)), data = .(dname), REML = TRUE)), env)
    } else {
      eval(bquote(glmmTMB(.(as.formula(case$formula)), data = .(dname))), env)
    }
    s <- summary(m)
    write_txt(name, "summary_glmmtmb", console(s))
    ref$coefficients <- coef_table(coef(s)$cond)
    vc <- VarCorr(m)$cond
    ref$varcorr <- lapply(names(vc), function(g) {
      list(group = g, names = colnames(vc[[g]]), sd = unname(attr(vc[[g]], "stddev")),
           corr = unname(as.vector(attr(vc[[g]], "correlation"))))
    })
    ref$sigma <- sigma(m)
    ref$loglik <- as.numeric(logLik(m))
    ref$aic <- AIC(m)
    ref$bic <- BIC(m)
    ref$df_resid <- df.residual(m)
    ref$converged <- m$fit$convergence == 0
    ref$pdHess <- m$sdr$pdHess
    ic <- tryCatch(performance::icc(m), error = function(e) NULL, warning = function(w) NULL)
    ref$icc_adjusted <- if (is.null(ic)) NULL else ic$ICC_adjusted
    ref$icc_conditional <- if (is.null(ic)) NULL else ic$ICC_conditional
    nd <- data[c(1, 2, 3), , drop = FALSE]
    ref$predict_conditional <- unname(predict(m, nd))
    ref$predict_population <- unname(predict(m, transform(nd, region = NA), re.form = NA))
  }
  writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             file.path(dir, paste0(name, ".json")))
}
cat("done\n")
