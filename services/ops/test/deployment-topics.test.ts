import { describe, expect, it } from 'vitest'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { deploymentTopics } from '../src/deployment-topics.ts'

describe('the topics an exporter reads', () => {
  it('when the deployment has no suffix, then they are the contract topics and their dead-letter topics, and no suffixed one', () => {
    const topics = deploymentTopics('')
    expect(topics).toContain(TOPICS.orderEvents)
    expect(topics).toContain(`${TOPICS.orderEvents}.dlq`)
    expect(topics).not.toContain(`${TOPICS.orderEvents}.t0123456789`)
    expect(topics).toHaveLength(2 * Object.keys(TOPICS).length)
  })

  it('when the deployment has a suffix, then every topic carries it, before the dead-letter ending', () => {
    const topics = deploymentTopics('.t0123456789')
    expect(topics).toContain(`${TOPICS.loyaltyEvents}.t0123456789`)
    expect(topics).toContain(`${TOPICS.loyaltyEvents}.t0123456789.dlq`)
    expect(topics).not.toContain(TOPICS.loyaltyEvents)
  })
})
