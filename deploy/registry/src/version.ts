// The one place the schema registry is pinned: Apicurio Registry's Quarkus application, as published
// on Maven Central. The image in docker-compose.yml and deploy/kubernetes carries the same version
// (version.spec.ts checks both).
export const REGISTRY_VERSION = '3.3.3';

/** groupId:artifactId:version:type:classifier, the form maven-dependency-plugin's `copy` takes. */
export const REGISTRY_ARTIFACT = `io.apicurio:apicurio-registry-app:${REGISTRY_VERSION}:tar.gz:all`;

/**
 * SHA-256 of that archive, taken when the version was pinned. Maven checks the repository's own
 * checksum while downloading (strict); this pin also catches a mirror serving other bytes under the
 * same name, or a different build replacing the release.
 */
export const REGISTRY_ARCHIVE_SHA256 = '8bc6751c76d963734224b01d5e7f84ccb3cb61c87d3bd77c36c35f10a5cbed63';

/** The official container image of the same release, for docker-compose and Kubernetes. */
export const REGISTRY_IMAGE = `apicurio/apicurio-registry:${REGISTRY_VERSION}`;

// Apicurio Registry 3.x is built for Java 21 and refuses to start on 17.
export const REGISTRY_JAVA_MAJOR_MIN = 21;

export const MAVEN_DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
