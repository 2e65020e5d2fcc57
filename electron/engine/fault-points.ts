/**
 * Named points where a fault test can freeze a run in order to `kill -9` it exactly there.
 * Only active when `LIFEBOAT_TEST_STALL` names the point; the run then says so on stderr and waits
 * until it is killed. Without that variable this is a no-op.
 */
export async function faultPoint(name: string): Promise<void> {
  if (process.env.LIFEBOAT_TEST_STALL !== name) return;
  process.stderr.write(`lifeboat: stalled at ${name}\n`);
  await new Promise(() => {
    setInterval(() => {}, 1 << 30);
  });
}
