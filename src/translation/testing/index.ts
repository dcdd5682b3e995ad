export {
  simulate,
  selectVirtualHost,
  routeMatches,
  type SimRequest,
  type SimResult,
  type SimOutcome,
} from './simulate.js';
