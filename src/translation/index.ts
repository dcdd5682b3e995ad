export { SECRET_FILES } from './tls-settings.js';
export { retarget, translate, translationKey } from './translate.js';
export {
  outboundClusterName,
  parseOutboundClusterName,
  virtualHostName,
  gatewayListenerName,
  gatewayRouteConfigName,
  sidecarRouteConfigName,
  ALLOW_ANY,
  BLOCK_ALL,
  DEFAULT_ROUTE,
  VIRTUAL_OUTBOUND_LISTENER,
} from './names.js';
export { defaultRetryPolicy } from './retry.js';
export { transitionConfig } from './transition.js';
