/**
 * Which gateways an endpoint serves: the lookups behind `getSelfGateway`, the handshake of `connect`, and the check
 * that a remote peer calls only methods of a served gateway.
 */

import { findGatewayDescriptor, type GatewayDescriptor, type MethodInfo } from './gateway.js';

/** The gateways an endpoint's class declares in `static gateways`. */
export function declaredGateways(endpoint: object): readonly GatewayDescriptor[] {
  const declared = (endpoint.constructor as { gateways?: readonly GatewayDescriptor[] }).gateways;
  return Array.isArray(declared) ? declared : [];
}

/**
 * True if `endpoint` serves `gateway`: one of its declared gateways is or extends it; an endpoint that declares none
 * serves every gateway whose methods it implements (checked by name).
 */
export function servesGateway(endpoint: object, gateway: GatewayDescriptor): boolean {
  const declared = declaredGateways(endpoint);
  if (declared.length > 0) return declared.some((d) => d.isSubtypeOf(gateway));
  const target = endpoint as Record<string, unknown>;
  for (const name of gateway.methods.keys()) {
    if (typeof target[name] !== 'function') return false;
  }
  return true;
}

/** The served gateway named `name`, for remote handshakes and calls: only these methods may be invoked remotely. */
export function servedGateway(endpoint: object, name: string): GatewayDescriptor | undefined {
  const declared = declaredGateways(endpoint);
  for (const descriptor of declared) {
    if (descriptor.name === name) return descriptor;
    for (const parent of ancestorsOf(descriptor)) if (parent.name === name) return parent;
  }
  if (declared.length > 0) return undefined;
  const known = findGatewayDescriptor(name);
  return known !== undefined && servesGateway(endpoint, known) ? known : undefined;
}

/** The method `method` of the served gateway `gateway`, or undefined: what a remote peer may call. */
export function servedMethod(endpoint: object, gateway: string, method: string): MethodInfo | undefined {
  const info = servedGateway(endpoint, gateway)?.methods.get(method);
  return info !== undefined && !info.local ? info : undefined;
}

function* ancestorsOf(descriptor: GatewayDescriptor): Generator<GatewayDescriptor> {
  for (const parent of descriptor.extends) {
    yield parent;
    yield* ancestorsOf(parent);
  }
}
