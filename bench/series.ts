/** A sensor time series as the tree holds it: n readings under one parent. */
export function series(n: number): string {
  const readings = Array.from(
    { length: n },
    (_, i) => `<body-weight><dateTime>2026-01-01</dateTime><value>${70 + (i % 100) / 10}</value></body-weight>`,
  );
  return `<data><sensors><fitbit><jack>${readings.join('')}</jack></fitbit></sensors></data>`;
}
