import type { AgentClass } from "@shared/analytics/dimensions";
import { isbot } from "isbot";
import { UAParser } from "ua-parser-js";

const UNKNOWN = "unknown";

/** User agents repeat heavily (a few hundred strings cover most traffic); parsing one costs ~20 µs. */
const CACHE_LIMIT = 5000;
const cache = new Map<string, AgentClass>();

/**
 * Classifies a user agent, remembering recent answers (bounded, oldest evicted first). Bots are detected by isbot's maintained pattern list;
 * device, browser and OS by ua-parser-js (the MIT 1.x line). A missing user agent
 * is counted as a bot: real browsers always send one.
 */
export function classifyAgent(userAgent: string | null): AgentClass {
  if (!userAgent) return { isBot: true, device: UNKNOWN, browser: UNKNOWN, os: UNKNOWN };
  const known = cache.get(userAgent);
  if (known) return known;
  const agent = parseAgent(userAgent);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(userAgent, agent);
  return agent;
}

function parseAgent(userAgent: string): AgentClass {
  const ua = new UAParser(userAgent).getResult();
  const bot = isbot(userAgent);
  return {
    isBot: bot,
    // ua-parser-js leaves desktop devices untyped.
    device: bot ? "bot" : (ua.device.type ?? "desktop"),
    browser: ua.browser.name ?? UNKNOWN,
    os: ua.os.name ?? UNKNOWN,
  };
}
