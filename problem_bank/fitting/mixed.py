"""Gaussian linear mixed models, as ``glmmTMB(y ~ x + (1 | g))`` (ML) or ``REML = TRUE``.

Model: y = Xβ + Zb + ε, b_g ~ N(0, D) independently per group, ε ~ N(0, σ²I).

The fit maximizes lme4's profiled likelihood. With D = σ²ΛΛ' (Λ lower triangular, θ its
entries) and, per group, M_g = I + Λ'Z_g'Z_gΛ, the deviance profiled over β and σ is
  ML:   Σ log|M_g| + n (1 + log(2π r²/n))
  REML: Σ log|M_g| + log|X'WX| + (n-p) (1 + log(2π r²/(n-p)))
where W = (I + ZΛΛ'Z')⁻¹ and r² the penalized residual sum of squares. All per-group
pieces are small q x q matrices, so an evaluation costs microseconds. We do this rather
than calling statsmodels' MixedLM because glmmTMB's standard errors are not MixedLM's:

- ML: glmmTMB reports the β block of the inverse observed Hessian of the full negative
  log-likelihood in (β, variance parameters), cross terms included;
- REML: β is integrated out like a random effect and TMB's ``sdreport`` adds the
  uncertainty of the variance parameters: Var(β̂) = (X'V⁻¹X)⁻¹ + J Var(φ̂) J', J = dβ̂/dφ.

Both are computed here in closed form (V is linear in φ = (σ², D entries)), at an optimum
Newton-polished on the exact gradient (``_polish``), as glmmTMB's final estimates are: the
finite-difference search alone left the 7th significant digit of some SEs off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from problem_bank.fitting.base import Fitted, VarCorr, VarCorrTerm
from problem_bank.fitting.formula import Design
from problem_bank.formula import Formula

#: Diagonal entries of Λ below this are tried at exactly 0 after the optimisation.
BOUNDARY_SNAP = 1e-3
#: A relative standard deviation below this counts as a boundary (singular) fit, as lme4.
SINGULAR_TOL = 1e-4
#: Newton steps on the exact gradient after the search (two reach rounding level).
POLISH_STEPS = 4


class MixedFit(Fitted):
    """``glmmTMB(formula, data, REML = method == "REML")`` for a gaussian response.

    One grouping factor, with a random intercept and/or random slopes. Wald z tests on the
    fixed effects. Extra attributes for ``summary_glmmtmb``: ``method``, ``loglik``,
    ``aic``, ``bic``, ``deviance``, ``sigma``, ``n_groups``.
    """

    fitter = "mixed"
    stat_name = "z"

    def __init__(self, spec: Formula, data: pd.DataFrame, method: str = "ML") -> None:
        if method not in ("ML", "REML"):
            raise ValueError(f"method must be 'ML' or 'REML', not {method!r}")
        if len(spec.random) != 1:
            raise NotImplementedError("exactly one random-effects term (expr | group) is supported")
        design = Design(spec, data)
        super().__init__(spec, design)
        self.method = method
        self.reml = method == "REML"
        self.rterm = spec.random[0]
        self.group = self.rterm.group
        codes, levels = pd.factorize(pd.Series(design.groups[self.group]), sort=True)
        self.group_levels = [str(v) for v in levels]
        self.n_groups = len(levels)
        self._codes = np.asarray(codes)
        cols = [np.ones(design.n)] if self.rterm.intercept else []
        for s in self.rterm.slopes:
            cols.append(design.frame[s].to_numpy(dtype=float))
        self.Z = np.column_stack(cols)
        self.q = self.Z.shape[1]
        self._precompute()
        self._optimize()
        self._finish()

    # -- profiled deviance ---------------------------------------------------------------
    def _precompute(self) -> None:
        X, y, Z, g = self.design.X, self.design.y, self.Z, self._codes
        q, p, G = self.q, X.shape[1], self.n_groups
        self.ZtZ = np.zeros((G, q, q))
        self.ZtX = np.zeros((G, q, p))
        self.Zty = np.zeros((G, q))
        np.add.at(self.ZtZ, g, Z[:, :, None] * Z[:, None, :])
        np.add.at(self.ZtX, g, Z[:, :, None] * X[:, None, :])
        np.add.at(self.Zty, g, Z * y[:, None])
        self.XtX, self.Xty, self.yty = X.T @ X, X.T @ y, float(y @ y)
        self._tril = np.tril_indices(q)

    def _lambda(self, theta: np.ndarray) -> np.ndarray:
        lam = np.zeros((self.q, self.q))
        lam[self._tril] = theta
        return lam

    def _pieces(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float, float]:
        """(Σ log|M_g|, X'WX, β̂, r², log|X'WX|) at θ."""
        lam = self._lambda(theta)
        M = lam.T @ self.ZtZ @ lam + np.eye(self.q)
        logdets = np.linalg.slogdet(M)[1]
        Minv = np.linalg.inv(M)
        LtZX = lam.T @ self.ZtX  # Λ'Z'X per group, (G, q, p)
        LtZy = self.Zty @ lam  # Λ'Z'y per group, (G, q)
        sx = Minv @ LtZX
        sy = (Minv @ LtZy[:, :, None])[:, :, 0]
        xwx = self.XtX - (LtZX.transpose(0, 2, 1) @ sx).sum(axis=0)
        xwy = self.Xty - (LtZX.transpose(0, 2, 1) @ sy[:, :, None]).sum(axis=0)[:, 0]
        ywy = self.yty - float(np.sum(LtZy * sy))
        beta = np.linalg.solve(xwx, xwy)
        r2 = ywy - float(xwy @ beta)
        logdet_x = float(np.linalg.slogdet(xwx)[1])
        return float(np.sum(logdets)), xwx, beta, r2, logdet_x

    def _deviance(self, theta: np.ndarray) -> float:
        logdet, _, _, r2, logdet_x = self._pieces(theta)
        n, p = self.design.n, self.design.X.shape[1]
        if self.reml:
            m = n - p
            return float(logdet + logdet_x + m * (1 + math.log(2 * math.pi * r2 / m)))
        return logdet + n * (1 + math.log(2 * math.pi * r2 / n))

    def _optimize(self) -> None:
        """Minimize the profiled deviance over θ by modified Newton steps.

        θ is left unconstrained: D = σ²ΛΛ' does not change when a column of Λ changes
        sign, so no bounds are needed and at the end columns are flipped to a positive
        diagonal. The start is lme4's Λ = I, rescaled by each random-effect column's RMS so
        that slopes of covariates in large units start at a sensible size.
        """
        q = self.q
        diag = [i * (i + 1) // 2 + i for i in range(q)]  # positions of Λ's diagonal in θ
        rms = np.sqrt(np.mean(self.Z**2, axis=0))
        theta0 = np.diag(1.0 / np.maximum(rms, 1e-12))[self._tril]
        theta, converged = self._newton(theta0)
        # Near a boundary the deviance is flat and Newton stops wherever its tolerance
        # is met, which differs in the last bits between CPUs: put small diagonal entries
        # exactly at 0 when that is no worse (lme4 reports such fits with a zero variance
        # too). The window is wider than SINGULAR_TOL so that a fit whose optimum is the
        # boundary is called singular on every machine; a snap never worsens the fit.
        for k in diag:
            if abs(theta[k]) < BOUNDARY_SNAP:
                cand = theta.copy()
                cand[k] = 0.0
                if self._deviance(cand) <= self._deviance(theta):
                    theta = cand
        lam = self._lambda(theta)
        lam = lam * np.where(np.diag(lam) < 0, -1.0, 1.0)[None, :]
        theta = lam[self._tril]
        self.singular = bool(any(theta[k] < SINGULAR_TOL for k in diag))
        if converged and not self.singular:
            theta = self._polish(theta)
        self.theta = theta
        self.converged = converged

    def _newton(self, theta: np.ndarray) -> tuple[np.ndarray, bool]:
        """Newton with eigenvalue modification: directions of negative curvature are
        followed downhill, so saddle points (a zero column of Λ is one) are escaped."""
        f = self._deviance(theta)
        for _ in range(100):
            scale = max(float(np.max(np.abs(theta))), 1e-3)
            h = 1e-4 * np.maximum(np.abs(theta), 1e-3 * scale)
            g, H = _fd_grad_hess(self._deviance, theta, h, f)
            w, Q = np.linalg.eigh(H)
            floor = 1e-8 * max(float(np.max(np.abs(w))), 1e-12)
            step = -Q @ ((Q.T @ g) / np.maximum(np.abs(w), floor))
            if w[0] < -floor:
                # add a move along the most negative curvature direction, downhill side
                v = Q[:, 0] * (0.1 * scale / np.linalg.norm(Q[:, 0] / np.maximum(h, 1e-300)) / 1e-4)
                step = step + (v if g @ v <= 0 else -v)
            t, accepted = 1.0, False
            while t > 1e-12:
                cand = theta + t * step
                fc = self._deviance(cand)
                if fc < f or (fc == f and t == 1.0):
                    accepted = True
                    break
                t /= 2
            if not accepted:
                return theta, w[0] > -floor
            moved = float(np.max(np.abs(cand - theta) / (np.abs(theta) + 1e-3 * scale)))
            theta, f = cand, fc
            if moved < 1e-10 and w[0] > -floor:
                return theta, True
        return theta, False

    # -- estimates at the optimum -----------------------------------------------------------
    def _finish(self) -> None:
        n, p = self.design.n, self.design.X.shape[1]
        _, _, beta, r2, _ = self._pieces(self.theta)
        self.sigma2 = r2 / (n - p if self.reml else n)
        self.sigma = math.sqrt(self.sigma2)
        lam = self._lambda(self.theta)
        self.D = self.sigma2 * lam @ lam.T
        self.params = beta
        self._relative_lambda = lam
        # On glmmTMB's scale; for REML it is minus half the REML criterion, as glmmTMB's.
        dev = self._deviance(self.theta)
        self.loglik = -0.5 * dev
        n_var = len(self.theta) + 1
        k = n_var + p
        self.n_params = k
        self.deviance = -2 * self.loglik
        self.aic = self.deviance + 2 * k
        self.bic = self.deviance + math.log(n) * k
        self.df_resid = float(n - (n_var if self.reml else k))
        self.cov_params = self._beta_covariance()
        self.bse = np.sqrt(np.diag(self.cov_params))
        self.tvalues = self.params / self.bse
        self.pvalues = 2 * special.ndtr(-np.abs(self.tvalues))  # P(|Z| > |z|)
        self._blups = self._conditional_modes(lam)

    def _var_params(self) -> list[tuple[str, int, int]]:
        """φ: σ² then the free entries of D (zero-variance components left out)."""
        out = [("sigma2", -1, -1)]
        for i in range(self.q):
            for j in range(i + 1):
                if self.D[i, i] <= 0 or self.D[j, j] <= 0:
                    continue
                if self.singular and (
                    self.D[i, i] < (SINGULAR_TOL**2) * self.sigma2
                    or self.D[j, j] < (SINGULAR_TOL**2) * self.sigma2
                ):
                    continue
                out.append(("D", i, j))
        return out

    def _beta_covariance(self) -> np.ndarray:
        """Cov(β̂) as glmmTMB reports it (see module docstring).

        With V_g = Z_g D Z_g' + σ²I, V_k = ∂V/∂φ_k (constant: V is linear in φ),
        A = X'V⁻¹X, u = V⁻¹(y - Xβ̂), a_k = V_k u:
          ML Hessian:   [[A, B], [B', S]],  B_k = X'V⁻¹a_k,  S_kl = -½ tr(V⁻¹V_kV⁻¹V_l) + a_k'V⁻¹a_l
          REML Hessian of φ (P = V⁻¹ - V⁻¹XA⁻¹X'V⁻¹):  -½ tr(PV_kPV_l) + a_k'Pa_l
        Every term is a sum over groups of small matrices.
        """
        X, y, Z, g = self.design.X, self.design.y, self.Z, self._codes
        phi = self._var_params()
        m, p = len(phi), X.shape[1]
        A = np.zeros((p, p))
        B = np.zeros((p, m))
        T = np.zeros((m, m))  # Σ tr(V⁻¹V_kV⁻¹V_l)
        F = np.zeros((m, m))  # Σ a_k'V⁻¹a_l
        C1 = np.zeros((m, p, p))  # Σ X'V⁻¹V_kV⁻¹X
        C2 = np.zeros((m, m, p, p))  # Σ X'V⁻¹V_kV⁻¹V_lV⁻¹X
        r = y - X @ self.params
        for gi in range(self.n_groups):
            idx = np.flatnonzero(g == gi)
            Zg, Xg, rg = Z[idx], X[idx], r[idx]
            ng = len(idx)
            Vi = np.linalg.inv(Zg @ self.D @ Zg.T + self.sigma2 * np.eye(ng))
            dV = []
            for kind, i, j in phi:
                if kind == "sigma2":
                    dV.append(np.eye(ng))
                else:
                    E = np.zeros((self.q, self.q))
                    E[i, j] = E[j, i] = 1.0
                    dV.append(Zg @ E @ Zg.T)
            ViX = Vi @ Xg
            u = Vi @ rg
            A += Xg.T @ ViX
            ViVk = [Vi @ d for d in dV]
            a = [d @ u for d in dV]
            for k in range(m):
                B[:, k] += ViX.T @ a[k]
                if self.reml:
                    C1[k] += ViX.T @ dV[k] @ ViX
                for k2 in range(k + 1):
                    T[k, k2] += float(np.sum(ViVk[k] * ViVk[k2].T))
                    F[k, k2] += float(a[k] @ Vi @ a[k2])
                    if self.reml:
                        C2[k, k2] += ViX.T @ dV[k] @ ViVk[k2] @ ViX
        T = np.tril(T) + np.tril(T, -1).T
        F = np.tril(F) + np.tril(F, -1).T
        Ainv = np.linalg.inv(A)
        if not self.reml:
            full = np.block([[A, B], [B.T, -0.5 * T + F]])
            return np.linalg.inv(full)[:p, :p]
        S = np.zeros((m, m))
        for k in range(m):
            for k2 in range(k + 1):
                tr_p = (
                    T[k, k2]
                    - 2 * np.trace(Ainv @ C2[k, k2])
                    + np.trace(Ainv @ C1[k] @ Ainv @ C1[k2])
                )
                S[k, k2] = S[k2, k] = -0.5 * tr_p + F[k, k2] - B[:, k] @ Ainv @ B[:, k2]
        J = -Ainv @ B
        return Ainv + J @ np.linalg.inv(S) @ J.T

    # -- the exact gradient, in glmmTMB's parameters ----------------------------------------
    def _tmb_theta(self, sigma2: float, D: np.ndarray) -> np.ndarray:
        """glmmTMB's variance parameters: log σ², log SDs, then (q = 2) the correlation as
        t = ρ/√(1-ρ²) (its ``us`` structure: ρ = t/√(1+t²))."""
        sd = np.sqrt(np.diag(D))
        out = [math.log(sigma2), *np.log(sd)]
        if self.q == 2:
            rho = D[0, 1] / (sd[0] * sd[1])
            out.append(rho / math.sqrt(1 - rho * rho))
        return np.array(out)

    def _tmb_v_derivs(self, t: np.ndarray) -> tuple[float, np.ndarray, list[np.ndarray]]:
        """(σ², D, ∂D/∂t_k for the random-effect parameters) at glmmTMB parameters ``t``."""
        sigma2 = math.exp(t[0])
        sd = np.exp(t[1 : 1 + self.q])
        rho = t[-1] / math.sqrt(1 + t[-1] ** 2) if self.q == 2 else 0.0
        corr = np.eye(self.q)
        if self.q == 2:
            corr[0, 1] = corr[1, 0] = rho
        D = corr * np.outer(sd, sd)
        dD = []
        for i in range(self.q):
            E = np.zeros((self.q, self.q))
            E[i, i] = 1.0
            dD.append(E @ D + D @ E)
        if self.q == 2:
            drho = (1 + t[-1] ** 2) ** -1.5
            dD.append(np.array([[0.0, 1.0], [1.0, 0.0]]) * sd[0] * sd[1] * drho)
        return sigma2, D, dD

    def _tmb_gradient(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(gradient of the marginal negative log-likelihood in ``t`` with β at its GLS
        value, X'V⁻¹X, B with B_k = X'V⁻¹V_kV⁻¹(y - Xβ̂)): ML profiled over β (what glmmTMB's
        ``profile = TRUE`` optimizes), or REML (β integrated out). Exact, as TMB's AD.

        Per group, V⁻¹ = (I - Z P Z')/σ² with P = D(σ²I + Z'Z D)⁻¹ (Woodbury), so every
        term is a q x q or q x p product, batched over the groups.
        """
        s2, D, dD = self._tmb_v_derivs(t)
        ZtZ, ZtX, Zty = self.ZtZ, self.ZtX, self.Zty
        XtX, Xty, yty, ng = self._group_sums()
        q = self.q
        P = D @ np.linalg.inv(s2 * np.eye(q) + ZtZ @ D)  # (G, q, q)
        XZP = ZtX.transpose(0, 2, 1) @ P  # X'Z P, (G, p, q)
        A = (XtX - XZP @ ZtX).sum(axis=0) / s2
        xvy = (Xty - (XZP @ Zty[:, :, None])[:, :, 0]).sum(axis=0) / s2
        Ainv = np.linalg.inv(A)
        beta = Ainv @ xvy
        Ztr = Zty - ZtX @ beta  # Z'r, (G, q)
        Xtr = Xty - XtX @ beta
        rtr = yty - 2 * Xty @ beta + np.einsum("i,gij,j->g", beta, XtX, beta)
        PZtr = (P @ Ztr[:, :, None])[:, :, 0]
        ZtZPZtr = (ZtZ @ PZtr[:, :, None])[:, :, 0]
        Ztu = (Ztr - ZtZPZtr) / s2  # Z'V⁻¹r
        Xtu = (Xtr - (XZP @ Ztr[:, :, None])[:, :, 0]) / s2  # X'V⁻¹r
        utu = (rtr - 2 * np.sum(Ztr * PZtr, axis=1) + np.sum(PZtr * ZtZPZtr, axis=1)) / s2**2
        Q = (ZtZ - ZtZ @ P @ ZtZ) / s2  # Z'V⁻¹Z
        R = (ZtX - ZtZ @ P @ ZtX) / s2  # Z'V⁻¹X
        XtVVu = (Xtu - (XZP @ Ztu[:, :, None])[:, :, 0]) / s2  # X'V⁻²r
        m, p = len(t), len(beta)
        grad = np.zeros(m)
        B = np.zeros((p, m))
        C = np.zeros((m, p, p))
        # σ² component: dV = σ²I.
        tr0 = ng - np.einsum("gij,gji->g", P, ZtZ)
        grad[0] = 0.5 * float(np.sum(tr0 - s2 * utu))
        B[:, 0] = s2 * XtVVu.sum(axis=0)
        if self.reml:
            VX2 = (
                XtX
                - XZP @ ZtX
                - (XZP @ ZtX).transpose(0, 2, 1)
                + XZP @ ZtZ @ XZP.transpose(0, 2, 1)
            ) / s2**2
            C[0] = s2 * VX2.sum(axis=0)
        for k, E in enumerate(dD, start=1):
            grad[k] = 0.5 * float(
                np.einsum("ij,gji->", E, Q) - np.einsum("gi,ij,gj->", Ztu, E, Ztu)
            )
            B[:, k] = np.einsum("gip,ij,gj->p", R, E, Ztu)
            if self.reml:
                C[k] = np.einsum("gip,ij,gjr->pr", R, E, R)
        if self.reml:
            grad -= 0.5 * np.einsum("ij,kji->k", Ainv, C)
        return grad, A, B

    def _group_sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per group: X'X, X'y, y'y and the group size (computed once)."""
        if not hasattr(self, "_gsums"):
            X, y, g, G = self.design.X, self.design.y, self._codes, self.n_groups
            p = X.shape[1]
            XtX = np.zeros((G, p, p))
            Xty = np.zeros((G, p))
            yty = np.zeros(G)
            np.add.at(XtX, g, X[:, :, None] * X[:, None, :])
            np.add.at(Xty, g, X * y[:, None])
            np.add.at(yty, g, y * y)
            self._gsums = (XtX, Xty, yty, np.bincount(g, minlength=G).astype(float))
        return self._gsums

    def _polish(self, theta: np.ndarray) -> np.ndarray:
        """Newton steps on the exact gradient (in glmmTMB's parameters) from the optimum
        found on the finite-difference deviance, until the gradient is at rounding level.

        The finite-difference search stops where its gradient (error ~1e-5) is zero, which
        moves the 7th significant digit of an estimate or SE in some datasets; glmmTMB's
        final estimates come from Newton steps on TMB's exact gradient. The Hessian is the
        central difference of the exact gradient.
        """
        if self.q > 2:
            return theta
        lam = self._lambda(theta)
        n, p = self.design.n, self.design.X.shape[1]
        r2 = self._pieces(theta)[3]
        sigma2 = r2 / (n - p if self.reml else n)
        D = sigma2 * lam @ lam.T
        sd = np.sqrt(np.diag(D))
        if np.any(sd <= 0) or sigma2 <= 0:
            return theta
        t = self._tmb_theta(sigma2, D)
        g = self._tmb_gradient(t)[0]
        m, step = len(t), 1e-4
        H = np.zeros((m, m))
        for i in range(m):
            e = np.zeros(m)
            e[i] = step
            H[i] = (self._tmb_gradient(t + e)[0] - self._tmb_gradient(t - e)[0]) / (2 * step)
        H = 0.5 * (H + H.T)
        if np.linalg.eigvalsh(H)[0] <= 0:
            return theta
        # Chord steps (one Hessian): the search leaves t ~1e-7 from the optimum, so each
        # step gains the Hessian's relative accuracy (~1e-6); two reach rounding level.
        for _ in range(POLISH_STEPS):
            cand = t - np.linalg.solve(H, g)
            gc = self._tmb_gradient(cand)[0]
            if not np.all(np.isfinite(gc)) or np.max(np.abs(gc)) >= np.max(np.abs(g)):
                break
            t, g = cand, gc
        sigma2, D, _ = self._tmb_v_derivs(t)
        lam = np.linalg.cholesky(D / sigma2)
        return lam[self._tril]

    def _conditional_modes(self, lam: np.ndarray) -> np.ndarray:
        """BLUPs b_g = Λ M_g⁻¹ Λ'Z_g'(y_g - X_gβ̂), one row per group level."""
        r = self.design.y - self.design.X @ self.params
        Ztr = np.zeros((self.n_groups, self.q))
        np.add.at(Ztr, self._codes, self.Z * r[:, None])
        M = lam.T @ self.ZtZ @ lam + np.eye(self.q)
        u = np.linalg.solve(M, (Ztr @ lam)[:, :, None])[:, :, 0]
        return np.asarray(u @ lam.T)

    # -- public API ------------------------------------------------------------------------
    def ranef(self) -> dict[str, dict[str, float]]:
        """Conditional modes (BLUPs) per group level: {level: {name: value}}."""
        names = self.rterm.names
        return {
            lev: dict(zip(names, map(float, self._blups[i]), strict=True))
            for i, lev in enumerate(self.group_levels)
        }

    def predict(self, newdata: Mapping[str, Any], scale: str = "response") -> float:
        """x'β̂ (+ z'b̂_g when ``newdata`` names a known group: the conditional prediction)."""
        if scale not in ("response", "link"):
            raise ValueError(f"scale must be 'response' or 'link', not {scale!r}")
        eta = self.linear_predictor(newdata)
        level = newdata.get(self.group)
        if level is None or (isinstance(level, float) and math.isnan(level)):
            return eta
        level = str(level)
        if level not in self.group_levels:
            raise KeyError(f"unknown {self.group} level {level!r}; levels: {self.group_levels}")
        b = self._blups[self.group_levels.index(level)]
        z = [1.0] if self.rterm.intercept else []
        z += [float(newdata[s]) for s in self.rterm.slopes]
        return eta + float(np.dot(z, b))

    def varcorr(self) -> VarCorr:
        """Random-effect variances/SDs per term, residual variance/SD, and correlations."""
        names = self.rterm.names
        sds = np.sqrt(np.maximum(np.diag(self.D), 0.0))
        terms = tuple(
            VarCorrTerm(self.group, n, float(self.D[i, i]), float(sds[i]))
            for i, n in enumerate(names)
        )
        corr = {}
        for i in range(self.q):
            for j in range(i):
                c = self.D[i, j] / (sds[i] * sds[j]) if sds[i] * sds[j] > 0 else math.nan
                corr[(self.group, names[j], names[i])] = float(c)
        return VarCorr(terms, self.sigma2, self.sigma, corr)

    def random_effect_variance(self) -> float:
        """Mean over observations of z_i' D z_i (Johnson 2014), as ``insight::get_variance``;
        for a random intercept alone it is the intercept variance."""
        return float(np.mean(np.einsum("ij,jk,ik->i", self.Z, self.D, self.Z)))

    def icc(self) -> float:
        """Adjusted ICC = σ²_random / (σ²_random + σ²_residual), as ``performance::icc``."""
        v = self.random_effect_variance()
        return v / (v + self.sigma2)

    def _extra_reference(self) -> dict[str, Any]:
        vc = self.varcorr()
        return {
            "method": self.method,
            "loglik": self.loglik,
            "aic": self.aic,
            "bic": self.bic,
            "sigma": self.sigma,
            "n_groups": self.n_groups,
            "varcorr": {
                "terms": [vars(t) for t in vc.terms],
                "residual_variance": vc.residual_variance,
                "residual_sd": vc.residual_sd,
                "correlations": [
                    {"group": k[0], "a": k[1], "b": k[2], "corr": v}
                    for k, v in vc.correlations.items()
                ],
            },
            "icc": self.icc(),
        }


def _fd_grad_hess(f: Any, x: np.ndarray, h: np.ndarray, fx: float) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradient and Hessian of ``f`` at ``x`` with steps ``h``."""
    m = len(x)
    g = np.zeros(m)
    H = np.zeros((m, m))
    fp, fm = np.zeros(m), np.zeros(m)
    for i in range(m):
        e = np.zeros(m)
        e[i] = h[i]
        fp[i], fm[i] = f(x + e), f(x - e)
        g[i] = (fp[i] - fm[i]) / (2 * h[i])
        H[i, i] = (fp[i] - 2 * fx + fm[i]) / h[i] ** 2
    for i in range(m):
        for j in range(i):
            ei, ej = np.zeros(m), np.zeros(m)
            ei[i], ej[j] = h[i], h[j]
            v = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * h[i] * h[j]
            )
            H[i, j] = H[j, i] = v
    return g, H
