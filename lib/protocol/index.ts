export * from "./names";
export * from "./config";
export * from "./events";
export * from "./fieldErrors";
