/** What CertPrune is, in a few lines, for a visitor who has never heard of it (front page, sign-in page). */
export function About({ compact = false }: { compact?: boolean }) {
  return (
    <section className="about" aria-label="About CertPrune" data-testid="about">
      <p>
        <strong>CertPrune</strong> asks whether pruning a neural network makes it <em>provably</em> robust.
        It reproduces Li et al., &ldquo;Can Pruning Improve Certified Robustness of Neural Networks?&rdquo;
        (TMLR 2023): train a network (naturally, adversarially, or with certified training such as
        CROWN-IBP), prune it round by round (IMP, random, HYDRA, channel pruning…), rewind and
        retrain, and check every round with a sound and complete verifier.
      </p>
      {!compact && (
        <p className="muted">
          A sample counts as <em>verified</em> only when the verifier proves that no perturbation within
          ε changes the prediction. Runs stream live; every number is stored and can be compared across
          methods, shared read-only, or exported as ONNX + VNNLIB for other verifiers.
        </p>
      )}
    </section>
  );
}
