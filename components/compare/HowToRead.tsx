/** "How to read this": the compare page's plain-words note for reviewers. */
export function HowToRead({ samples, seeds }: { samples: number[]; seeds: number[] }) {
  const fewest = samples.length ? Math.min(...samples) : null;
  const oneSeed = seeds.length > 0 && Math.min(...seeds) < 2;
  return (
    <details className="panel wide" open data-testid="how-to-read">
      <summary><strong>How to read this</strong></summary>
      <ul style={{ margin: "0.4rem 0 0", paddingLeft: "1.2rem", lineHeight: 1.5 }}>
        <li>
          <strong>Verified accuracy</strong> is the share of the verification images proven robust. It is measured on a sample, so it comes with a
          <strong> 95% interval</strong> in brackets: the true value is plausibly anywhere in it.
          {fewest != null && fewest < 100 ? ` With ${fewest} verification images an interval is wide: ±10 points or more.` : ""}
        </li>
        <li>
          With several seeds a figure is the <strong>mean over seeds</strong>, with its standard deviation (sd) and the 95% interval of the mean; with one seed, the interval of that one run&apos;s count.
          {oneSeed ? " One seed says nothing about how much training luck moves the result." : ""}
        </li>
        <li>
          <strong>Remaining</strong> says what it counts: <em>of pruned layers</em> (only the layers the method prunes) or <em>of all weights</em> (the whole network); structured methods also count <em>channels</em>.
          The chart&apos;s x axis switches between them.
        </li>
        <li>
          The <strong>best round</strong> is the engine&apos;s: the round with the most verified images, the earliest on ties. Rounds &quot;not distinguishable&quot; from it did not differ significantly on the same images.
        </li>
        <li>
          <strong>Paired comparisons</strong> compare two rounds on the same images. A p-value below 0.05 means a difference this large would rarely arise by chance;
          &quot;not significant&quot; means these runs cannot tell the two apart, not that they are equal.
        </li>
      </ul>
    </details>
  );
}
